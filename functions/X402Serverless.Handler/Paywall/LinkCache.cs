using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Options;
using X402Serverless.Core.Links;
using X402Serverless.Core.Networks;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Hosting;
using X402Serverless.Handler.Listings;

namespace X402Serverless.Handler.Paywall;

/// <summary>
/// Links in memory with a short TTL, so the paid path normally touches no store to find its link. Edits made
/// through this instance invalidate at once; other instances see them within the TTL.
/// </summary>
internal sealed class LinkCache(ILinkStore store, NetworkRegistry networks, ISecretSealer sealer, TimeProvider time, IOptions<GatewayOptions> options)
{
    private readonly ConcurrentDictionary<string, CachedLink> _entries = new(StringComparer.Ordinal);
    private readonly long _ttlTicks = TimeSpan.FromSeconds(options.Value.LinkCacheSeconds).Ticks;
    private readonly int _maxTimeoutSeconds = options.Value.MaxTimeoutSeconds;

    public async ValueTask<CachedLink?> GetAsync(string id, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcTicks;
        if (_entries.TryGetValue(id, out var cached) && cached.ExpiresAtTicks > now)
        {
            return cached;
        }
        var link = await store.FindAsync(id, cancellationToken);
        if (link is null)
        {
            _entries.TryRemove(id, out _);
            return null;
        }
        var entry = Prepare(link, now + _ttlTicks);
        _entries[id] = entry;
        return entry;
    }

    public void Invalidate(string id) => _entries.TryRemove(id, out _);

    private CachedLink Prepare(PaidLink link, long expiresAt)
    {
        var headers = link.SealedUpstreamHeaders is null
            ? []
            : JsonSerializer.Deserialize<Dictionary<string, string>>(sealer.Unseal(link.SealedUpstreamHeaders))!.ToList();
        var requirements = link.Accepts402 ? LinkPricing.Requirements(link, link.Price, networks, _maxTimeoutSeconds) : [];
        var byPrice = link.Accepts402
            ? link.PriceRules.Select(r => r.Price).Where(p => p != link.Price).Distinct().ToDictionary(p => p, p => LinkPricing.Requirements(link, p, networks, _maxTimeoutSeconds))
            : [];
        return new CachedLink(link, requirements, headers, new Uri(link.Upstream), expiresAt) { RuleRequirements = byPrice, Bazaar = BazaarExtension.For(link) };
    }
}
