using Microsoft.Extensions.Options;
using X402Serverless.Core.Links;
using X402Serverless.Core.Networks;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Usage;
using X402Serverless.Handler.Hosting;

namespace X402Serverless.Handler.Listings;

/// <summary>
/// The listed links in memory for the public catalogue, discovery and /openapi.json: built from the stores in one
/// pass (one listed-links query, one health read, one organisation and one usage read per provider), never per
/// link per request.
/// A link change on this instance invalidates it at once; other instances see changes within LinkCacheSeconds,
/// as for the paid path's link cache, and usage figures are as fresh.
/// </summary>
internal sealed class ListingCatalogue(
    ILinkStore links,
    IAccessStore access,
    IUsageStore usage,
    ILinkHealthStore health,
    NetworkRegistry networks,
    TimeProvider time,
    IOptions<GatewayOptions> options) : IDisposable
{
    public const int UsageDays = 30;

    private readonly SemaphoreSlim _building = new(1, 1);
    private readonly long _ttlTicks = TimeSpan.FromSeconds(Math.Max(1, options.Value.LinkCacheSeconds)).Ticks;
    private readonly int _maxTimeoutSeconds = options.Value.MaxTimeoutSeconds;
    private long _generation;
    private CatalogueSnapshot? _current;

    public void Dispose() => _building.Dispose();

    /// <summary>Drops the snapshot: the next request builds a new one. Called on every link create, change and delete.</summary>
    public void Invalidate() => Interlocked.Increment(ref _generation);

    public async ValueTask<CatalogueSnapshot> GetAsync(CancellationToken cancellationToken)
    {
        if (Fresh(_current) is { } current)
        {
            return current;
        }
        // One build at a time: a burst of requests after a change waits for one store pass instead of making many.
        await _building.WaitAsync(cancellationToken);
        try
        {
            if (Fresh(_current) is { } built)
            {
                return built;
            }
            // Read the generation before the store: a change made during the build leaves this snapshot stale.
            var generation = Interlocked.Read(ref _generation);
            var snapshot = await BuildAsync(generation, cancellationToken);
            _current = snapshot;
            return snapshot;
        }
        finally
        {
            _building.Release();
        }
    }

    private CatalogueSnapshot? Fresh(CatalogueSnapshot? snapshot) =>
        snapshot is not null && snapshot.Generation == Interlocked.Read(ref _generation) && snapshot.ExpiresAtTicks > time.GetUtcNow().UtcTicks
            ? snapshot
            : null;

    private async Task<CatalogueSnapshot> BuildAsync(long generation, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var listed = (await links.ListListedAsync(cancellationToken)).Where(l => l.Public).ToList();
        var fromDay = now.UtcDateTime.Date.AddDays(1 - UsageDays).ToString("yyyy-MM-dd");
        var providers = new Dictionary<string, string>(StringComparer.Ordinal);
        var counts = new Dictionary<(string Link, string Kind), long>();
        var latency = new Dictionary<string, long[]>(StringComparer.Ordinal);
        var probes = (await health.ListAsync(cancellationToken)).ToDictionary(h => h.LinkId, StringComparer.Ordinal);
        foreach (var organisationId in listed.Select(l => l.OrganisationId).Distinct(StringComparer.Ordinal))
        {
            providers[organisationId] = (await access.FindOrganisationAsync(organisationId, cancellationToken))?.Name ?? organisationId;
            foreach (var count in await usage.ListAsync(organisationId, fromDay, cancellationToken))
            {
                if (LatencyHistogram.BucketOf(count.Kind) is var bucket and >= 0)
                {
                    if (!latency.TryGetValue(count.LinkId, out var buckets))
                    {
                        latency[count.LinkId] = buckets = new long[LatencyHistogram.Buckets];
                    }
                    buckets[bucket] += count.Count;
                    continue;
                }
                counts[(count.LinkId, count.Kind)] = counts.GetValueOrDefault((count.LinkId, count.Kind)) + count.Count;
            }
        }
        var entries = listed.Select(link =>
        {
            var provider = providers[link.OrganisationId];
            var requirements = link.Accepts402 ? LinkPricing.Requirements(link, link.Price, networks, _maxTimeoutSeconds) : [];
            var search = string.Join('\n', new[] { link.Name, link.Description, link.Listing.Category, provider }
                .Concat(link.Listing.Tags).OfType<string>()).ToLowerInvariant();
            return new CatalogueEntry(link, provider, requirements,
                counts.GetValueOrDefault((link.Id, UsageKinds.Paid)), counts.GetValueOrDefault((link.Id, UsageKinds.NotCharged)), search)
            {
                Latency = latency.TryGetValue(link.Id, out var buckets) ? LatencyHistogram.Summarise(buckets) : LatencySummary.None,
                // Only a link whose probe is on now: a record left from before the probe was turned off claims nothing.
                Health = link.Listing.Probed ? probes.GetValueOrDefault(link.Id) : null,
            };
        }).ToList();
        return new CatalogueSnapshot(entries, generation, now.UtcTicks + _ttlTicks);
    }
}
