using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Settlement;

namespace X402Serverless.Handler.OutboundWebhooks;

/// <summary>
/// Raises payment.settled or payment.failed before the settlement records its outcome, under an id derived from the
/// payment: a crash before the record leaves the job to run again, which raises the same event (stored once). A store
/// failure throws, so the outcome is not recorded without its event. Every path that settles (the worker, the queue
/// function, an inline settlement, recovery) goes through the processor, so through here.
/// </summary>
internal sealed class WebhookSettlementObserver(WebhookEvents events) : ISettlementObserver
{
    public async Task ConcludingAsync(PaymentRecord payment, SettlementResult result, CancellationToken cancellationToken)
    {
        if (WebhookEventData.SettlementType(result) is { } type)
        {
            await events.RaiseOrThrowAsync(payment.OrganisationId, type, payment.Id, () => WebhookEventData.Settlement(payment, result), cancellationToken);
        }
    }
}
