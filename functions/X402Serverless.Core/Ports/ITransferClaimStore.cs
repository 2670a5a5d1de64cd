using X402Serverless.Core.Transfers;

namespace X402Serverless.Core.Ports;

/// <summary>
/// Transaction hashes presented as payments (x402 TXID): each pays for one call, ever, across every link and
/// organisation. A claim is held under a lease while the call runs, then consumed (captured) or released.
/// </summary>
public interface ITransferClaimStore
{
    /// <summary>
    /// Claims the hash for <paramref name="claim"/>'s owner when it has no record or only a claim whose lease ended at
    /// <paramref name="now"/>; of concurrent claims exactly one wins. A consumed hash is never claimed again.
    /// </summary>
    Task<TransferClaimOutcome> ClaimAsync(TransferClaim claim, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Marks the hash used for good, only while <paramref name="owner"/> still holds the claim.</summary>
    Task<bool> ConsumeAsync(string txHash, string owner, string paymentId, CancellationToken cancellationToken);

    /// <summary>Frees the hash if <paramref name="owner"/> still holds it unconsumed (nothing was charged: it may be presented again).</summary>
    Task ReleaseAsync(string txHash, string owner, CancellationToken cancellationToken);

    Task<TransferClaim?> GetAsync(string txHash, CancellationToken cancellationToken);
}
