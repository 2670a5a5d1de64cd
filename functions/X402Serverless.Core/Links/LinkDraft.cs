using System.Text.Json;
using System.Text.Json.Serialization;
using X402Serverless.Core.Json;
using X402Serverless.Core.Money;

namespace X402Serverless.Core.Links;

/// <summary>
/// What a provider sends to create or change a link: the JSON contract of POST and PATCH /api/links (a field not
/// listed here is refused with its name). On a change, null means "leave as is", except upstreamHeaders: null or
/// {} clears them.
/// </summary>
public sealed record LinkDraft
{
    public string? Upstream { get; init; }

    public UsdInput? Price { get; init; }

    public string? PayTo { get; init; }

    public IReadOnlyList<string>? Networks { get; init; }

    /// <summary>Of the link's networks, those paid through Permit2; [] for none.</summary>
    public IReadOnlyList<string>? Permit2Networks { get; init; }

    public string? Name { get; init; }

    public string? Description { get; init; }

    public IReadOnlyList<string>? Methods { get; init; }

    public string? Settlement { get; init; }

    public string? DeferredPayers { get; init; }

    public string? Facilitator { get; init; }

    public bool? VerifyOnChain { get; init; }

    public bool? PaymentIdentifierRequired { get; init; }

    /// <summary>True switches the link off (its paid URL refuses every call), false on again; absent leaves it.</summary>
    public bool? Disabled { get; init; }

    public IReadOnlyList<string>? Accepts { get; init; }

    public string? ChargeOn { get; init; }

    public UsdInput? DailyCapPerPayer { get; init; }

    public string? KycLevel { get; init; }

    public IReadOnlyList<string>? KycCountries { get; init; }

    /// <summary>Prices per HTTP method and path prefix; [] removes them all.</summary>
    public IReadOnlyList<PriceRuleDraft>? PriceRules { get; init; }

    /// <summary>Rate limits per payer and per client address; null removes them (the gateway's defaults apply).</summary>
    public Patch<RateLimitDraft> RateLimit { get; init; }

    /// <summary>Secret headers injected upstream. Write-only; null or {} clears them.</summary>
    public Patch<Dictionary<string, string>> UpstreamHeaders { get; init; }

    /// <summary>Shown in the public catalogue, discovery and /openapi.json (needs a name).</summary>
    public bool? Listed { get; init; }

    /// <summary>Listing tags; [] removes them.</summary>
    public IReadOnlyList<string>? Tags { get; init; }

    /// <summary>Listing category; "" removes it.</summary>
    public string? Category { get; init; }

    /// <summary>A working example request for the listing; "" removes it.</summary>
    public string? ExampleRequest { get; init; }

    /// <summary>JSON Schema (an object, or a string holding one) of the request; null removes it.</summary>
    public Patch<JsonElement> InputSchema { get; init; }

    /// <summary>JSON Schema (an object, or a string holding one) of a successful response; null removes it.</summary>
    public Patch<JsonElement> OutputSchema { get; init; }

    /// <summary>Probe the upstream for health while listed (unpaid, no payer data).</summary>
    public bool? HealthProbe { get; init; }

    /// <summary>Path (and query) the probe requests below the upstream, starting with '/'; "" probes the upstream URL itself.</summary>
    public string? HealthPath { get; init; }

    /// <summary>Makes the link a paid inbox (no upstream): where messages go, size, auto-reply, free senders.</summary>
    public Inbox.InboxDraft? Inbox { get; init; }

    /// <summary>Sells a pass (N calls and/or T minutes for one price); null stops selling (passes sold stay valid).</summary>
    public Patch<Passes.PassOfferDraft> Pass { get; init; }

    [JsonIgnore]
    public bool ClearsUpstreamHeaders => UpstreamHeaders.IsSent && UpstreamHeaders.Value is not { Count: > 0 };

    /// <summary>Codes and methods compared case-insensitively are stored in one case.</summary>
    public LinkDraft Normalized() => this with
    {
        Accepts = Accepts?.Select(a => a.ToLowerInvariant()).ToList(),
        KycLevel = KycLevel?.ToLowerInvariant(),
        KycCountries = KycCountries?.Select(c => c.ToUpperInvariant()).Distinct().ToList(),
        Methods = Methods?.Select(m => m.ToUpperInvariant()).ToList(),
        Tags = Tags?.Select(t => t.Trim().ToLowerInvariant()).Distinct().ToList(),
        Category = Category?.Trim(),
        ExampleRequest = ExampleRequest?.Trim(),
        HealthPath = HealthPath?.Trim(),
    };
}
