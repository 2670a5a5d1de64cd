using System.Collections.Concurrent;
using Azure.Core;
using Azure.Messaging.ServiceBus;
using X402Serverless.Core.Ports;

namespace X402Serverless.AzureStorage.Messaging;

/// <summary>
/// Hands jobs to Service Bus queues over AMQP with Azure.Messaging.ServiceBus (its retry policy covers transient
/// faults first). One sender per queue, kept for the process's life, as the SDK recommends.
/// </summary>
public sealed class ServiceBusJobDispatcher(ServiceBusClient client) : IJobDispatcher, IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, ServiceBusSender> _senders = new(StringComparer.Ordinal);

    /// <summary>In Azure: the namespace (https://sb-x.servicebus.windows.net) and a managed identity; no connection string.</summary>
    public static ServiceBusJobDispatcher Connect(Uri namespaceUri, TokenCredential credential) =>
        new(new ServiceBusClient(namespaceUri.Host, credential));

    /// <summary>The namespace host the client sends to (for the start-up summary and tests).</summary>
    public string Namespace => client.FullyQualifiedNamespace;

    public async Task DispatchAsync(string queue, string messageId, string jsonBody, CancellationToken cancellationToken)
    {
        var sender = _senders.GetOrAdd(queue, client.CreateSender);
        try
        {
            await sender.SendMessageAsync(JobMessages.Create(messageId, jsonBody), cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new JobDispatchException(queue, messageId, ServiceBusFailures.IsTransient(e), e);
        }
    }

    public ValueTask DisposeAsync() => client.DisposeAsync();
}
