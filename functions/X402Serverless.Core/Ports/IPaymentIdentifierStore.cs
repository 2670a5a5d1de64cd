using X402Serverless.Core.Idempotency;

namespace X402Serverless.Core.Ports;

/// <summary>Payment identifiers (x402 <c>payment-identifier</c>): one entry per link, payer and id.</summary>
public interface IPaymentIdentifierStore
{
    /// <summary>
    /// Claims <paramref name="entry"/>'s key for it when the key has no entry or only one expired at <paramref name="now"/>;
    /// of concurrent claims of one key exactly one wins. Otherwise returns the entry in force, untouched.
    /// </summary>
    Task<IdentifierClaim> ClaimAsync(IdentifiedCall entry, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Records the answer and its new expiry, only while <paramref name="completed"/>'s owner still holds the claim.</summary>
    Task<bool> CompleteAsync(IdentifiedCall completed, CancellationToken cancellationToken);

    /// <summary>Deletes the entry if <paramref name="owner"/> still holds it (nothing was charged: the id is free again).</summary>
    Task AbandonAsync(string linkId, string payer, string id, string owner, CancellationToken cancellationToken);

    Task<IdentifiedCall?> GetAsync(string linkId, string payer, string id, CancellationToken cancellationToken);

    /// <summary>Deletes up to <paramref name="max"/> entries expired at <paramref name="now"/>; how many went.</summary>
    Task<int> DeleteExpiredAsync(DateTimeOffset now, int max, CancellationToken cancellationToken);
}
