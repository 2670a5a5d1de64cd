using System.Text;
using System.Text.Json.Nodes;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using X402Serverless.Core.Ports;

namespace X402Serverless.AzureStorage.Messaging;

/// <summary>
/// Sends to Service Bus queues over its REST API (POST https://{namespace}/{queue}/messages) with an Entra ID token.
/// MessageId is the job id, so with duplicate detection on, a job sent twice is delivered once.
/// </summary>
public sealed class ServiceBusSender : IJobDispatcher
{
    private readonly HttpPipeline _pipeline;
    private readonly Uri _namespace;

    /// <param name="transport">Only to observe the wire in tests; production uses Azure.Core's default HTTP transport.</param>
    public ServiceBusSender(Uri namespaceUri, TokenCredential credential, HttpPipelineTransport? transport = null)
    {
        _namespace = new Uri(namespaceUri.ToString().TrimEnd('/') + "/");
        var options = new AzureClientOptions();
        if (transport is not null)
        {
            options.Transport = transport;
        }
        _pipeline = HttpPipelineBuilder.Build(options, new BearerTokenAuthenticationPolicy(credential, "https://servicebus.azure.net/.default"));
    }

    public async Task DispatchAsync(string queue, string messageId, string jsonBody, CancellationToken cancellationToken)
    {
        using var message = _pipeline.CreateMessage();
        var request = message.Request;
        request.Method = RequestMethod.Post;
        request.Uri.Reset(new Uri(_namespace, $"{Uri.EscapeDataString(queue)}/messages"));
        request.Headers.SetValue("Content-Type", "application/json");
        request.Headers.SetValue("BrokerProperties", new JsonObject { ["MessageId"] = messageId, ["ContentType"] = "application/json" }.ToJsonString());
        request.Content = RequestContent.Create(Encoding.UTF8.GetBytes(jsonBody));
        await _pipeline.SendAsync(message, cancellationToken);
        if (message.Response.Status != 201)
        {
            throw new RequestFailedException(message.Response.Status, $"Service Bus refused the message ({message.Response.Status}).");
        }
    }
}
