namespace X402Serverless.Core.Stripe;

/// <summary>
/// The fields of a Checkout Session a signed event carries that the gateway acts on (stable across Stripe API
/// versions). <see cref="AmountTotal"/> is in cents; null when absent or not an integer.
/// </summary>
public sealed record CheckoutSession(string Id, string EventType, string? PaymentStatus, string? Currency, long? AmountTotal)
{
    public bool Paid => PaymentStatus == "paid";
}

/// <summary>Completes checkouts the gateway opened for something other than a top-up (a pass bought by card).</summary>
public interface ICheckoutFulfilment
{
    /// <summary>The outcome to record for the event, or null when the session is not one of this fulfilment's.</summary>
    Task<string?> FulfilAsync(CheckoutSession session, CancellationToken cancellationToken);
}
