namespace X402Serverless.Core.Kyc;

/// <summary>Where a subject's verification stands; only "verified" satisfies a link's KYC policy.</summary>
public static class KycStatuses
{
    public const string Pending = "pending";

    public const string Verified = "verified";

    public const string Rejected = "rejected";

    /// <summary>The provider withdrew an earlier verification (expired documents, fraud review).</summary>
    public const string Revoked = "revoked";

    public static readonly IReadOnlyList<string> All = [Pending, Verified, Rejected, Revoked];
}
