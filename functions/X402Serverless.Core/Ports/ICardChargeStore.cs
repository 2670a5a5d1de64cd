using X402Serverless.Core.Stripe;

namespace X402Serverless.Core.Ports;

/// <summary>Fulfilled card payments by Stripe PaymentIntent id, and how much of each refunds and disputes took back.</summary>
public interface ICardChargeStore
{
    /// <summary>Records a payment; false (nothing changed) when its PaymentIntent is recorded already.</summary>
    Task<bool> AddAsync(CardCharge charge, CancellationToken cancellationToken);

    Task<CardCharge?> GetAsync(string paymentIntentId, CancellationToken cancellationToken);

    /// <summary>
    /// Moves the taken-back total from <paramref name="fromCents"/> to <paramref name="toCents"/> (remembering
    /// <paramref name="fromCents"/> as the previous total, <paramref name="reason"/>, and the refunded and disputed totals
    /// that made it) if it is still <paramref name="fromCents"/>; false when another writer moved it first or the payment
    /// is not recorded.
    /// </summary>
    Task<bool> AdvanceAsync(string paymentIntentId, long fromCents, long toCents, string reason, long refundedCents, long disputedCents,
        CancellationToken cancellationToken);
}
