namespace X402Serverless.Core.Links;

/// <summary>
/// How a link presents itself in the public catalogue, discovery and /openapi.json. Kept as one sub-record (one
/// stored column or property) so the stores and views copy one value, not seven fields. The link's own name and
/// description are its title and summary there. Schemas are kept as compact JSON text, checked to be objects.
/// </summary>
public sealed record LinkListing
{
    public static readonly LinkListing None = new();

    /// <summary>Shown publicly. Only a listed link appears in anything public; the rest stays as written for later.</summary>
    public bool Listed { get; init; }

    /// <summary>Lower-case topical tags, in the provider's order.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    public string? Category { get; init; }

    /// <summary>A request that works, as the provider would show it (e.g. "GET /today?city=Oslo").</summary>
    public string? ExampleRequest { get; init; }

    /// <summary>JSON Schema of the request (its query or body), compact JSON text of an object.</summary>
    public string? InputSchema { get; init; }

    /// <summary>JSON Schema of a successful response, compact JSON text of an object.</summary>
    public string? OutputSchema { get; init; }

    /// <summary>Probe the upstream (unpaid) while listed, to show whether it is up (Health/LinkHealthProber).</summary>
    public bool HealthProbe { get; init; }

    /// <summary>What the probe requests below the upstream URL ("/health", "/status?full=0"); null: the upstream URL itself.</summary>
    public string? HealthPath { get; init; }

    /// <summary>Whether the health prober calls this link: listed, with its probe on.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool Probed => Listed && HealthProbe;

    /// <summary>Field-for-field equality (records compare lists by reference).</summary>
    public bool SameAs(LinkListing other) =>
        Listed == other.Listed && Tags.SequenceEqual(other.Tags) && Category == other.Category
        && ExampleRequest == other.ExampleRequest && InputSchema == other.InputSchema && OutputSchema == other.OutputSchema
        && HealthProbe == other.HealthProbe && HealthPath == other.HealthPath;
}
