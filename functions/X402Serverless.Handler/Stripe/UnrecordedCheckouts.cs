using X402Serverless.Core.Stripe;

namespace X402Serverless.Handler.Stripe;

/// <summary>
/// The last fulfilment asked: a paid-looking session no other one recorded (made in Stripe's dashboard, by another
/// integration, or opened before top-ups were recorded). Nothing is credited; it is logged with the session id so the
/// operator can refund it in Stripe.
/// </summary>
internal sealed partial class UnrecordedCheckouts(ILogger<UnrecordedCheckouts> logger) : ICheckoutFulfilment
{
    public Task<string?> FulfilAsync(CheckoutSession session, CancellationToken cancellationToken)
    {
        NotRecorded(logger, session.EventType, session.Id, session.PaymentStatus, session.AmountTotal, session.Currency);
        return Task.FromResult<string?>("not_recorded");
    }

    [LoggerMessage(64, LogLevel.Warning,
        "Stripe {EventType} for Checkout Session {SessionId} ({PaymentStatus}, {AmountTotal} {Currency}): the gateway recorded no top-up or pass for it, so nothing is credited; refund it in Stripe if it was paid.")]
    private static partial void NotRecorded(ILogger logger, string eventType, string sessionId, string? paymentStatus, long? amountTotal, string? currency);
}
