using System.Net.Sockets;
using Azure.Identity;
using Azure.Messaging.ServiceBus;
using X402Serverless.AzureStorage.Messaging;
using X402Serverless.Core.Ports;

namespace X402Serverless.Tests.Stores;

/// <summary>
/// No broker runs here, so the dispatcher is checked offline: the message it builds (what the Functions trigger and
/// duplicate detection read), the client it builds for a managed identity (no I/O until the first send), and how a
/// failed send is classified. The SDK's own test seams (virtual CreateSender/SendMessageAsync) stand in for the wire.
/// </summary>
public sealed class ServiceBusJobDispatcherTests
{
    [Fact]
    public void A_job_becomes_a_json_message_whose_id_is_the_job_id()
    {
        var message = JobMessages.Create("pay_123", """{"paymentId":"pay_123"}""");
        Assert.Equal("pay_123", message.MessageId);
        Assert.Equal("application/json", message.ContentType);
        Assert.Equal("""{"paymentId":"pay_123"}""", message.Body.ToString());
        Assert.Empty(message.ApplicationProperties); // the trigger reads the body only; the job row is the truth

        // What the receiving side (and so the Functions trigger) sees of it.
        var received = ServiceBusModelFactory.ServiceBusReceivedMessage(message.Body, messageId: message.MessageId, contentType: message.ContentType);
        Assert.Equal("pay_123", received.MessageId);
        Assert.Equal("""{"paymentId":"pay_123"}""", received.Body.ToString());
    }

    [Fact]
    public async Task Jobs_go_to_their_queue_through_one_sender_per_queue()
    {
        var client = new RecordingClient();
        var dispatcher = new ServiceBusJobDispatcher(client); // a mocked client has no connection to close
        await dispatcher.DispatchAsync("settlement-jobs", "pay_1", """{"paymentId":"pay_1"}""", default);
        await dispatcher.DispatchAsync("settlement-jobs", "pay_2", """{"paymentId":"pay_2"}""", default);
        await dispatcher.DispatchAsync("stripe-events", "evt_1", """{"eventId":"evt_1"}""", default);

        Assert.Equal(["settlement-jobs", "stripe-events"], client.Created);
        Assert.Equal(["pay_1", "pay_2"], client.Senders["settlement-jobs"].Sent.Select(m => m.MessageId));
        Assert.Equal("""{"eventId":"evt_1"}""", client.Senders["stripe-events"].Sent.Single().Body.ToString());
    }

    [Fact]
    public async Task A_managed_identity_client_targets_the_namespace_host_without_connecting()
    {
        await using var dispatcher = ServiceBusJobDispatcher.Connect(new Uri("https://sb-test.servicebus.windows.net"), new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId("00000000-0000-0000-0000-000000000001")));
        Assert.Equal("sb-test.servicebus.windows.net", dispatcher.Namespace);
    }

    [Theory]
    [InlineData(ServiceBusFailureReason.ServiceBusy, true)]
    [InlineData(ServiceBusFailureReason.ServiceTimeout, true)]
    [InlineData(ServiceBusFailureReason.ServiceCommunicationProblem, true)]
    [InlineData(ServiceBusFailureReason.QuotaExceeded, true)]
    [InlineData(ServiceBusFailureReason.MessagingEntityNotFound, false)]
    [InlineData(ServiceBusFailureReason.MessagingEntityDisabled, false)]
    [InlineData(ServiceBusFailureReason.MessageSizeExceeded, false)]
    public async Task Broker_failures_are_classified_transient_or_permanent(ServiceBusFailureReason reason, bool transient)
    {
        var client = new RecordingClient { Failure = new ServiceBusException("refused", reason, "settlement-jobs") };
        var dispatcher = new ServiceBusJobDispatcher(client); // a mocked client has no connection to close
        var error = await Assert.ThrowsAsync<JobDispatchException>(() => dispatcher.DispatchAsync("settlement-jobs", "pay_1", "{}", default));
        Assert.Equal(transient, error.IsTransient);
        Assert.Equal("pay_1", error.MessageId);
        Assert.Equal("settlement-jobs", error.Queue);
    }

    [Fact]
    public void Identity_refusals_are_permanent_and_network_faults_transient()
    {
        Assert.False(ServiceBusFailures.IsTransient(new UnauthorizedAccessException("no Data Sender role")));
        Assert.False(ServiceBusFailures.IsTransient(new AuthenticationFailedException("no identity")));
        Assert.True(ServiceBusFailures.IsTransient(new SocketException()));
        Assert.True(ServiceBusFailures.IsTransient(new TimeoutException()));
        Assert.True(ServiceBusFailures.IsTransient(new ServiceBusException(isTransient: true, "flaky")));
    }

    private sealed class RecordingClient : ServiceBusClient
    {
        public List<string> Created { get; } = [];

        public Dictionary<string, RecordingSender> Senders { get; } = [];

        public Exception? Failure { get; init; }

        public override ServiceBusSender CreateSender(string queueOrTopicName)
        {
            Created.Add(queueOrTopicName);
            return Senders[queueOrTopicName] = new RecordingSender(Failure);
        }
    }

    private sealed class RecordingSender(Exception? failure) : ServiceBusSender
    {
        public List<ServiceBusMessage> Sent { get; } = [];

        public override Task SendMessageAsync(ServiceBusMessage message, CancellationToken cancellationToken = default)
        {
            if (failure is not null)
            {
                throw failure;
            }
            Sent.Add(message);
            return Task.CompletedTask;
        }
    }
}
