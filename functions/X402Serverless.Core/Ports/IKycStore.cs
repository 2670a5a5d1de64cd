using X402Serverless.Core.Kyc;

namespace X402Serverless.Core.Ports;

/// <summary>Verification results by subject, and the wallets they cover.</summary>
public interface IKycStore
{
    Task<KycRecord?> GetAsync(string subjectId, CancellationToken cancellationToken);

    /// <summary>The record whose verified wallets include this address (lower-case 0x), if any.</summary>
    Task<KycRecord?> FindByWalletAsync(string address, CancellationToken cancellationToken);

    /// <summary>
    /// Stores the record unless the stored one was decided at the same time or later (events arrive out of order);
    /// a wallet moves to the subject most recently verified for it. False when nothing changed.
    /// </summary>
    Task<bool> SaveIfNewerAsync(KycRecord record, CancellationToken cancellationToken);
}
