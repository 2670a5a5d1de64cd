namespace X402Serverless.Core.Stripe;

/// <summary>
/// A card payment the gateway fulfilled, by the Stripe PaymentIntent that paid it: recorded from the signed
/// <c>checkout.session.completed</c> of a checkout the gateway opened (a top-up or a pass), so a later refund or dispute,
/// which names the PaymentIntent and not the session, finds that checkout's own record. <see cref="TakenBackCents"/> is
/// how much of the payment refunds and disputes have taken back so far (Stripe reports refunds as a running total);
/// it only grows, by a conditional write, so each cent is taken back once however often and concurrently events arrive.
/// </summary>
public sealed record CardCharge
{
    public required string PaymentIntentId { get; init; }

    public required string SessionId { get; init; }

    /// <summary>Cents taken back so far.</summary>
    public long TakenBackCents { get; init; }

    /// <summary>
    /// The refunds' running total and the disputed amount seen so far: Stripe reports each on its own, and a charge partly
    /// refunded and then disputed owes back both, so what is taken back is their sum (at most what was paid).
    /// </summary>
    public long RefundedCents { get; init; }

    /// <inheritdoc cref="RefundedCents"/>
    public long DisputedCents { get; init; }

    /// <summary>What <see cref="TakenBackCents"/> was before its last step: that step took back the difference.</summary>
    public long PreviousCents { get; init; }

    /// <summary>Why the last step was taken (<see cref="CardReversalReasons"/>); null before any.</summary>
    public string? Reason { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>
    /// The refunded and disputed totals after <paramref name="reason"/> reported <paramref name="cents"/>: each only grows.
    /// A row written before the two were kept attributes what was taken back to its last reason.
    /// </summary>
    public (long Refunded, long Disputed) With(string reason, long cents)
    {
        var (refunded, disputed) = RefundedCents + DisputedCents == 0 && TakenBackCents > 0
            ? Reason == CardReversalReasons.Disputed ? (0L, TakenBackCents) : (TakenBackCents, 0L)
            : (RefundedCents, DisputedCents);
        return reason == CardReversalReasons.Refunded ? (Math.Max(refunded, cents), disputed) : (refunded, Math.Max(disputed, cents));
    }

    /// <summary>Whether <paramref name="id"/> has the shape of a PaymentIntent id (pi_ and letters, digits, underscores).</summary>
    public static bool IsPaymentIntentId(string? id) =>
        id is { Length: > 3 and <= 255 } && id.StartsWith("pi_", StringComparison.Ordinal) && id.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}

/// <summary>Why card money is taken back.</summary>
public static class CardReversalReasons
{
    public const string Refunded = "refunded";
    public const string Disputed = "disputed";
}
