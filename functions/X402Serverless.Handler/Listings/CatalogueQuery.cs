namespace X402Serverless.Handler.Listings;

/// <summary>The catalogue page's filters: free text, one tag, one category, and the page (50 APIs each).</summary>
internal sealed record CatalogueQuery(string? Q, string? Tag, string? Category, int Page)
{
    public const int PageSize = 50;
    private const int MaxFilterLength = 200;

    /// <summary>The query from the URL; an unusable page number is page 1 (a public page answers, it does not scold).</summary>
    public static CatalogueQuery From(IQueryCollection query) => new(
        Clean(query["q"]),
        Clean(query["tag"])?.ToLowerInvariant(),
        Clean(query["category"]),
        int.TryParse(query["page"], out var page) && page is > 0 and < 100_000 ? page : 1)
    {
        NotDown = query["up"] == "1",
    };

    /// <summary>?up=1: leave out APIs whose health probe finds them down (those without a probe stay).</summary>
    public bool NotDown { get; init; }

    public string Key => $"{Q}\u0001{Tag}\u0001{Category}\u0001{Page}\u0001{NotDown}";

    public bool Matches(CatalogueEntry entry) =>
        (Q is null || Q.ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries).All(entry.SearchText.Contains))
        && (Tag is null || entry.Link.Listing.Tags.Contains(Tag))
        && (Category is null || string.Equals(entry.Link.Listing.Category, Category, StringComparison.OrdinalIgnoreCase))
        && (!NotDown || !entry.Down);

    /// <summary>This query's URL on another page.</summary>
    public string Url(int page)
    {
        var parts = new List<string>();
        Add("q", Q);
        Add("tag", Tag);
        Add("category", Category);
        if (NotDown)
        {
            parts.Add("up=1");
        }
        if (page > 1)
        {
            parts.Add($"page={page}");
        }
        return parts.Count == 0 ? "/" : "/?" + string.Join('&', parts);

        void Add(string name, string? value)
        {
            if (value is not null)
            {
                parts.Add($"{name}={Uri.EscapeDataString(value)}");
            }
        }
    }

    private static string? Clean(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }
        var trimmed = value.Trim();
        return trimmed.Length <= MaxFilterLength ? trimmed : trimmed[..MaxFilterLength];
    }
}
