using System.Collections.Concurrent;
using X402Serverless.Core.Money;

namespace X402Serverless.Handler.Paywall;

/// <summary>
/// The plain 402 challenge of one cached link, rendered once per price, method and URL and then written as it is:
/// the unpaid request is the one a crawler or a client probing for the price repeats most, and building two JSON
/// trees and a base64 header for it each time was most of its cost. Lives as long as its <see cref="CachedLink"/>
/// (the link cache's TTL), so an edited link renders anew. Bounded, because the URL (path and query, and the host
/// when no public URL is configured) is the caller's: only short URLs are kept (a long one repeats four times in a
/// challenge), and when full it starts over instead of growing, so a link holds a few kilobytes at most.
/// </summary>
internal sealed class ChallengeCache
{
    private const int MaxEntries = 16;
    internal const int MaxUrlLength = 512;

    public int Count => _entries.Count;

    private readonly ConcurrentDictionary<Key, RenderedChallenge> _entries = new();

    public RenderedChallenge? Find(Usd price, string method, string resource, string baseUrl) =>
        _entries.TryGetValue(new Key(price, method, resource, baseUrl), out var rendered) ? rendered : null;

    public void Remember(Usd price, string method, string resource, string baseUrl, RenderedChallenge rendered)
    {
        if (resource.Length + baseUrl.Length > MaxUrlLength)
        {
            return;
        }
        if (_entries.Count >= MaxEntries)
        {
            _entries.Clear();
        }
        _entries[new Key(price, method, resource, baseUrl)] = rendered;
    }

    private readonly record struct Key(Usd Price, string Method, string Resource, string BaseUrl);
}

/// <summary>A 402 ready to write: the PAYMENT-REQUIRED header's value and the UTF-8 JSON body.</summary>
internal sealed record RenderedChallenge(string Header, byte[] Body);
