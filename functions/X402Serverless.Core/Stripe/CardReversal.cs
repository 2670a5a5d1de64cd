namespace X402Serverless.Core.Stripe;

/// <summary>
/// What a signed refund or dispute event asks: that <see cref="TargetCents"/> of the payment made through
/// <see cref="PaymentIntentId"/> be taken back in all (a running total, as Stripe reports refunds), for
/// <see cref="Reason"/> (<see cref="CardReversalReasons"/>).
/// </summary>
public sealed record CardReversal(string PaymentIntentId, long TargetCents, string Reason, string EventType);

/// <summary>Takes back what a refunded or disputed card payment credited (a top-up's credits, a pass).</summary>
public interface ICardReversals
{
    /// <summary>The outcome to record for the event.</summary>
    Task<string> ReverseAsync(CardReversal reversal, CancellationToken cancellationToken);
}
