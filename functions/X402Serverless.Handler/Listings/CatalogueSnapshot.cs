using System.Collections.Concurrent;

namespace X402Serverless.Handler.Listings;

/// <summary>
/// Every listed link at one moment, oldest first, and the public documents already rendered from it, so repeated
/// requests for the same page cost a dictionary lookup.
/// </summary>
internal sealed class CatalogueSnapshot(IReadOnlyList<CatalogueEntry> entries, long generation, long expiresAtTicks)
{
    // Bounded: a crawler walking every page and query must not grow memory without end; past it, pages are rendered per request.
    private const int MaxRendered = 512;

    private readonly ConcurrentDictionary<string, Lazy<RenderedDocument>> _rendered = new(StringComparer.Ordinal);

    public IReadOnlyList<CatalogueEntry> Entries { get; } = entries;

    public IReadOnlyDictionary<string, CatalogueEntry> ById { get; } = entries.ToDictionary(e => e.Id, StringComparer.Ordinal);

    public IReadOnlyList<string> Tags { get; } = entries.SelectMany(e => e.Link.Listing.Tags).Distinct().Order(StringComparer.Ordinal).ToList();

    public IReadOnlyList<string> Categories { get; } = entries.Select(e => e.Link.Listing.Category).OfType<string>()
        .Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.OrdinalIgnoreCase).ToList();

    public long Generation { get; } = generation;

    public long ExpiresAtTicks { get; } = expiresAtTicks;

    public RenderedDocument Rendered(string key, Func<RenderedDocument> render)
    {
        if (_rendered.TryGetValue(key, out var found))
        {
            return found.Value;
        }
        if (_rendered.Count >= MaxRendered)
        {
            return render();
        }
        // One render however many requests ask at once: /openapi.json of a thousand APIs is megabytes to build, and a
        // burst of requests each building it after a refresh stalls the machine.
        var lazy = _rendered.GetOrAdd(key, _ => new Lazy<RenderedDocument>(render));
        try
        {
            return lazy.Value;
        }
        catch
        {
            _rendered.TryRemove(KeyValuePair.Create(key, lazy)); // a failed render is not kept
            throw;
        }
    }
}
