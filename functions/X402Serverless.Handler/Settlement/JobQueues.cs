using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Hosting;
using X402Serverless.Core.Webhooks;
using X402Serverless.Handler.Webhooks;

namespace X402Serverless.Handler.Settlement;

/// <summary>Queue names and the one call sites use to hand a durable job on; a failed hand-off is logged, never fatal.</summary>
internal sealed partial class JobQueues(IJobDispatcher dispatcher, IOptions<ServiceBusOptions> options, ILogger<JobQueues> logger)
{
    public Task SettlementAsync(string paymentId, string? messageId = null) =>
        SendAsync(options.Value.SettlementQueue, messageId ?? paymentId, new JsonObject { ["paymentId"] = paymentId });

    /// <summary>An inbox message to deliver (the InboxDelivery function in Azure; the in-process worker standalone).</summary>
    public Task InboxDeliveryAsync(string receipt, string? messageId = null) =>
        SendAsync(options.Value.InboxDeliveryQueue, messageId ?? receipt, new JsonObject { ["receipt"] = receipt });

    public Task InboxEventAsync(string source, string eventId, string? messageId = null) =>
        SendAsync(InboxQueue(options.Value, source), messageId ?? eventId, new JsonObject { ["eventId"] = eventId });

    public static string InboxQueue(ServiceBusOptions queues, string source) =>
        source == WebhookSources.Kyc ? queues.KycEventsQueue : queues.StripeEventsQueue;

    private async Task SendAsync(string queue, string id, JsonObject body)
    {
        try
        {
            await dispatcher.DispatchAsync(queue, id, body.ToJsonString(), CancellationToken.None);
        }
        catch (JobDispatchException e) when (!e.IsTransient)
        {
            // Retrying will not help (no such queue, identity refused): say so loudly; the job still waits in the store.
            Log.DispatchRefused(logger, queue, id, e);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The job is durable in the store; a later sweep or the local worker picks it up.
            Log.DispatchFailed(logger, queue, id, e);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(60, LogLevel.Warning, "Could not hand job {JobId} to queue {Queue}; it stays recorded and will be picked up later.")]
        public static partial void DispatchFailed(ILogger logger, string queue, string jobId, Exception exception);

        [LoggerMessage(63, LogLevel.Error, "Queue {Queue} refused job {JobId} and will keep refusing until its configuration is fixed; the job stays recorded and will be picked up later.")]
        public static partial void DispatchRefused(ILogger logger, string queue, string jobId, Exception exception);
    }
}

/// <summary>Standalone: jobs run in this process, so dispatching is waking the right worker.</summary>
internal sealed class LocalJobDispatcher(SettlementSignal settlement, InboxSignal inbox, Inbox.InboxDeliverySignal inboxDelivery, IOptions<ServiceBusOptions> options) : IJobDispatcher
{
    public Task DispatchAsync(string queue, string messageId, string jsonBody, CancellationToken cancellationToken)
    {
        var queues = options.Value;
        if (queue == queues.StripeEventsQueue || queue == queues.KycEventsQueue)
        {
            inbox.Notify();
        }
        else if (queue == queues.InboxDeliveryQueue)
        {
            inboxDelivery.Notify();
        }
        else
        {
            settlement.Notify();
        }
        return Task.CompletedTask;
    }
}
