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

    /// <summary>Forgets a top-up checkout (expired, never paid); false when it was not recorded.</summary>
    Task<bool> DeleteAsync(string sessionId, CancellationToken cancellationToken);
}
