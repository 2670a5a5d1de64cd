using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using X402Serverless.Core.Links;
using X402Serverless.Handler.Hosting;

namespace X402Serverless.Handler.RateLimits;

/// <summary>
/// Token buckets in memory, one per key (link, kind, payer or address). Each is kept as the time it will be full
/// again (the GCRA form of a token bucket: one integer, updated lock-free): a call takes a token when, after it, the
/// bucket would be full again within the limit's period. Memory is bounded: past <see cref="RateLimitOptions.MaxBuckets"/>
/// a sweep drops the buckets already full (dropping one changes nothing: a new bucket starts full), then, if a
/// flood of fresh keys fills them all, the least recently used, so an attacker's many addresses cannot grow memory.
/// </summary>
internal sealed class TokenBuckets(TimeProvider time, IOptions<GatewayOptions> options)
{
    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);
    private readonly int _max = options.Value.RateLimits.MaxBuckets;
    private readonly Lock _sweeping = new();

    public int Count => _buckets.Count;

    /// <summary>Takes a token from <paramref name="key"/>'s bucket: null when taken, else how long until one is there.</summary>
    public TimeSpan? TryTake(string key, RateLimit limit)
    {
        var now = time.GetTimestamp();
        var frequency = time.TimestampFrequency;
        // Ticks per token and the whole period; at most 86,400 s × the timestamp frequency: well inside a long.
        var period = limit.PerSeconds * frequency;
        var interval = Math.Max(1, period / limit.Requests);
        if (!_buckets.TryGetValue(key, out var bucket))
        {
            if (_buckets.Count >= _max)
            {
                Sweep(now);
            }
            bucket = _buckets.GetOrAdd(key, _ => new Bucket());
        }
        while (true)
        {
            var fullAt = Volatile.Read(ref bucket.FullAt);
            var next = Math.Max(fullAt, now) + interval;
            if (next - now > period)
            {
                bucket.LastUsed = now;
                return TimeSpan.FromSeconds((double)(next - now - period) / frequency);
            }
            if (Interlocked.CompareExchange(ref bucket.FullAt, next, fullAt) == fullAt)
            {
                bucket.LastUsed = now;
                return null;
            }
        }
    }

    /// <summary>Makes room: full buckets go, then the least recently used until a quarter of the room is free.</summary>
    private void Sweep(long now)
    {
        if (!_sweeping.TryEnter())
        {
            return; // Another call is sweeping; this one may overshoot the bound by a little meanwhile.
        }
        try
        {
            if (_buckets.Count < _max)
            {
                return;
            }
            foreach (var (key, bucket) in _buckets)
            {
                if (Volatile.Read(ref bucket.FullAt) <= now)
                {
                    _buckets.TryRemove(key, out _);
                }
            }
            var target = _max - (_max / 4);
            if (_buckets.Count <= target)
            {
                return;
            }
            var oldest = _buckets.ToArray();
            Array.Sort(oldest, (a, b) => a.Value.LastUsed.CompareTo(b.Value.LastUsed));
            for (var i = 0; i < oldest.Length - target; i++)
            {
                _buckets.TryRemove(oldest[i].Key, out _);
            }
        }
        finally
        {
            _sweeping.Exit();
        }
    }

    private sealed class Bucket
    {
        public long FullAt;
        public long LastUsed;
    }
}
