using X402Serverless.Core.Links;
using X402Serverless.Core.Money;

namespace X402Serverless.Handler.Management;

/// <summary>
/// POST /api/links/import: an OpenAPI 3 document (its text, or a URL to fetch it from) and how to turn its operations
/// into links. The per-link settings are those of POST /api/links and apply to every created link.
/// </summary>
internal sealed record LinkImportRequest
{
    /// <summary>The document itself, JSON or YAML text.</summary>
    public string? Document { get; init; }

    /// <summary>Where to fetch the document from (same address rules as an upstream). One of this or <see cref="Document"/>.</summary>
    public string? DocumentUrl { get; init; }

    /// <summary>What each operation's path is appended to; default: the document's first server URL.</summary>
    public string? UpstreamBase { get; init; }

    /// <summary>The price of an operation <see cref="Prices"/> does not name.</summary>
    public UsdInput? DefaultPrice { get; init; }

    /// <summary>Prices by operationId or "METHOD /path".</summary>
    public Dictionary<string, UsdInput>? Prices { get; init; }

    /// <summary>Only these operations (operationId or "METHOD /path"); null: all.</summary>
    public IReadOnlyList<string>? Include { get; init; }

    /// <summary>Not these operations.</summary>
    public IReadOnlyList<string>? Exclude { get; init; }

    /// <summary>Check and answer the plan; create nothing.</summary>
    public bool? DryRun { get; init; }

    /// <summary>Create the valid operations' links and report the invalid ones, instead of refusing the whole import.</summary>
    public bool? SkipInvalid { get; init; }

    public string? PayTo { get; init; }

    public IReadOnlyList<string>? Networks { get; init; }

    public IReadOnlyList<string>? Accepts { get; init; }

    public string? Settlement { get; init; }

    public string? DeferredPayers { get; init; }

    public string? Facilitator { get; init; }

    public bool? VerifyOnChain { get; init; }

    public bool? PaymentIdentifierRequired { get; init; }

    public string? ChargeOn { get; init; }

    public UsdInput? DailyCapPerPayer { get; init; }

    public string? KycLevel { get; init; }

    public IReadOnlyList<string>? KycCountries { get; init; }

    /// <summary>Secret headers injected upstream on every imported link (write-only, as on a link).</summary>
    public Dictionary<string, string>? UpstreamHeaders { get; init; }

    /// <summary>Rate limits every imported link gets (<see cref="LinkDraft.RateLimit"/>).</summary>
    public RateLimitDraft? RateLimit { get; init; }

    public bool? Listed { get; init; }

    /// <summary>Tags added to each operation's own tags.</summary>
    public IReadOnlyList<string>? Tags { get; init; }

    public string? Category { get; init; }

    /// <summary>The settings every imported link shares, as a create-link draft (the operation fills in the rest).</summary>
    public LinkDraft SharedDraft() => new()
    {
        PayTo = PayTo,
        Networks = Networks,
        Accepts = Accepts,
        Settlement = Settlement,
        DeferredPayers = DeferredPayers,
        Facilitator = Facilitator,
        VerifyOnChain = VerifyOnChain,
        PaymentIdentifierRequired = PaymentIdentifierRequired,
        ChargeOn = ChargeOn,
        DailyCapPerPayer = DailyCapPerPayer,
        KycLevel = KycLevel,
        KycCountries = KycCountries,
        UpstreamHeaders = UpstreamHeaders is null ? default : new(true, UpstreamHeaders),
        Listed = Listed,
        Category = Category,
        RateLimit = RateLimit is null ? default : new(true, RateLimit),
    };
}
