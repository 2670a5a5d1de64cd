namespace X402Serverless.Core.Stripe;

/// <summary>
/// The fields of a Checkout Session a signed event carries that the gateway acts on (stable across Stripe API
/// versions). <see cref="AmountTotal"/> is in cents; null when absent or not an integer.
/// </summary>
public sealed record CheckoutSession(string Id, string EventType, string? PaymentStatus, string? Currency, long? AmountTotal)
{
    public bool Paid => PaymentStatus == "paid";

    /// <summary>Whether <paramref name="id"/> has the shape of a Checkout Session id (cs_ and letters, digits, underscores).</summary>
    public static bool IsId(string? id) =>
        id is { Length: > 3 and <= 255 } && id.StartsWith("cs_", StringComparison.Ordinal) && id.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}

/// <summary>Completes checkouts the gateway recorded when it opened them (a card top-up, a pass bought by card).</summary>
public interface ICheckoutFulfilment
{
    /// <summary>The outcome to record for the event, or null when the session is not one of this fulfilment's.</summary>
    Task<string?> FulfilAsync(CheckoutSession session, CancellationToken cancellationToken);
}
