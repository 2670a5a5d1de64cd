using X402Serverless.Core.Stripe;

namespace X402Serverless.Core.Ports;

/// <summary>Card top-up checkouts by Stripe Checkout Session id: what the webhook credits, and the only thing it trusts.</summary>
public interface ICardTopUpStore
{
    /// <summary>Records a top-up checkout; false (nothing changed) when its session is recorded already.</summary>
    Task<bool> AddAsync(CardTopUp topUp, CancellationToken cancellationToken);

    /// <summary>The top-up opened as this session, or null when the gateway opened none.</summary>
    Task<CardTopUp?> GetAsync(string sessionId, CancellationToken cancellationToken);

    /// <summary>Top-ups opened at or after <paramref name="since"/> and before <paramref name="before"/>, oldest first, at most <paramref name="max"/>.</summary>
    Task<IReadOnlyList<CardTopUp>> OpenedBetweenAsync(DateTimeOffset since, DateTimeOffset before, int max, CancellationToken cancellationToken);

    /// <summary>
    /// Marks the top-up paid, before anything is credited for it: from then on it is never forgotten. False when it is
    /// not recorded (never opened, or forgotten already: then nothing may be credited). Repeating it is harmless.
    /// </summary>
    Task<bool> MarkPaidAsync(string sessionId, CancellationToken cancellationToken);

    /// <summary>
    /// Forgets a top-up checkout that was never paid, atomically with that check (a payment marked meanwhile keeps it);
    /// false when it is not recorded or is marked paid.
    /// </summary>
    Task<bool> DeleteUnpaidAsync(string sessionId, CancellationToken cancellationToken);
}
