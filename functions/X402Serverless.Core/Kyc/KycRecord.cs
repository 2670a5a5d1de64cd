namespace X402Serverless.Core.Kyc;

/// <summary>
/// The latest verification of one subject (a payer), done once and honoured by every link on the gateway. Wallets
/// are the addresses the provider verified as the subject's, so x402 payments from them count as this subject.
/// </summary>
public sealed record KycRecord
{
    public required string SubjectId { get; init; }

    public required string Status { get; init; }

    public required string Level { get; init; }

    /// <summary>ISO 3166-1 alpha-2, upper case; null when the provider did not say.</summary>
    public string? Country { get; init; }

    /// <summary>The provider's id for the verification, for support and audits.</summary>
    public required string Reference { get; init; }

    /// <summary>Lower-case 0x addresses.</summary>
    public IReadOnlyList<string> Wallets { get; init; } = [];

    /// <summary>When the provider decided (the event's time): an older event never overwrites a newer one.</summary>
    public required DateTimeOffset DecidedAt { get; init; }

    public bool Satisfies(string requiredLevel) =>
        KycLevels.Rank(requiredLevel) == 0 || (Status == KycStatuses.Verified && KycLevels.Rank(Level) >= KycLevels.Rank(requiredLevel));
}
