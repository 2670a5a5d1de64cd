namespace X402Serverless.Core.Links;

/// <summary>What a provider sends to create or change a link. On a change, null means "leave as is".</summary>
public sealed record LinkDraft
{
    public string? Upstream { get; init; }

    public string? Price { get; init; }

    public string? PayTo { get; init; }

    public IReadOnlyList<string>? Networks { get; init; }

    public string? Name { get; init; }

    public string? Description { get; init; }

    public IReadOnlyList<string>? Methods { get; init; }

    public string? Settlement { get; init; }

    public string? DeferredPayers { get; init; }

    public string? Facilitator { get; init; }

    public bool? VerifyOnChain { get; init; }

    public IReadOnlyList<string>? Accepts { get; init; }

    public string? ChargeOn { get; init; }

    /// <summary>USD decimal string, like price.</summary>
    public string? DailyCapPerPayer { get; init; }

    public string? KycLevel { get; init; }

    public IReadOnlyList<string>? KycCountries { get; init; }

    /// <summary>Secret headers injected upstream. Write-only.</summary>
    public IReadOnlyDictionary<string, string>? UpstreamHeaders { get; init; }
}
