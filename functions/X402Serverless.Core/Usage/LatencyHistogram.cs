using System.Globalization;

namespace X402Serverless.Core.Usage;

/// <summary>
/// Upstream latency as fixed log-spaced buckets kept in the usage counters: bucket i counts calls whose upstream
/// answered (response headers in) within (2^((i-1)/2), 2^(i/2)] ms, i.e. about 41% wide each: bucket 0 holds
/// everything up to 1 ms, the last (31) everything above 32.8 s (its upper bound, 46 s, is only nominal). Each bucket is one more
/// usage kind ("latency:07"), so the histogram is flushed, stored and summed like the other counters, with no
/// store of its own. Percentiles are read from the summed buckets, interpolated within the bucket they fall in.
/// </summary>
public static class LatencyHistogram
{
    public const int Buckets = 32;

    public const string KindPrefix = "latency:";

    /// <summary>The usage kind of each bucket, made once so the paid path formats nothing.</summary>
    public static readonly IReadOnlyList<string> Kinds =
        Enumerable.Range(0, Buckets).Select(i => KindPrefix + i.ToString("D2", CultureInfo.InvariantCulture)).ToArray();

    /// <summary>Upper bound of bucket <paramref name="index"/> in milliseconds (the last bucket's is only nominal).</summary>
    public static double UpperMilliseconds(int index) => Math.Pow(2, index / 2.0);

    /// <summary>Lower bound (exclusive) of bucket <paramref name="index"/> in milliseconds.</summary>
    public static double LowerMilliseconds(int index) => index == 0 ? 0 : UpperMilliseconds(index - 1);

    /// <summary>The bucket a latency falls in.</summary>
    public static int Bucket(TimeSpan latency)
    {
        var ms = latency.TotalMilliseconds;
        if (ms <= 1)
        {
            return 0;
        }
        // 2·log2(ms), rounded up: the first bucket whose upper bound is at least ms.
        var index = (int)Math.Ceiling(2 * Math.Log2(ms) - 1e-9);
        return Math.Min(index, Buckets - 1);
    }

    /// <summary>The bucket a usage kind counts, or -1 when it is not a latency kind.</summary>
    public static int BucketOf(string kind) =>
        kind.StartsWith(KindPrefix, StringComparison.Ordinal)
        && int.TryParse(kind.AsSpan(KindPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var index)
        && index is >= 0 and < Buckets
            ? index
            : -1;

    /// <summary>Median and 95th percentile of the latency counts among <paramref name="counts"/> (other kinds are ignored).</summary>
    public static LatencySummary Summarise(IEnumerable<UsageCount> counts)
    {
        var buckets = new long[Buckets];
        foreach (var count in counts)
        {
            if (BucketOf(count.Kind) is var index and >= 0)
            {
                buckets[index] += count.Count;
            }
        }
        return Summarise(buckets);
    }

    public static LatencySummary Summarise(long[] buckets)
    {
        var samples = buckets.Sum();
        return samples == 0
            ? LatencySummary.None
            : new LatencySummary(samples, Percentile(buckets, samples, 0.50), Percentile(buckets, samples, 0.95));
    }

    // The q-th sample's place within its bucket, spread evenly across the bucket's bounds.
    private static TimeSpan Percentile(long[] buckets, long samples, double q)
    {
        var rank = q * samples;
        long before = 0;
        for (var i = 0; i < buckets.Length; i++)
        {
            if (buckets[i] == 0)
            {
                continue;
            }
            if (before + buckets[i] >= rank)
            {
                var lower = LowerMilliseconds(i);
                var upper = UpperMilliseconds(i);
                var within = Math.Clamp((rank - before) / buckets[i], 0, 1);
                return TimeSpan.FromMilliseconds(lower + within * (upper - lower));
            }
            before += buckets[i];
        }
        return TimeSpan.FromMilliseconds(UpperMilliseconds(Buckets - 1));
    }
}

/// <summary>How many calls a latency figure rests on, and its median and 95th percentile (null without calls).</summary>
public sealed record LatencySummary(long Samples, TimeSpan? P50, TimeSpan? P95)
{
    public static readonly LatencySummary None = new(0, null, null);

    /// <summary>"85 ms", "1.4 s": how a page shows a latency.</summary>
    public static string Format(TimeSpan latency) =>
        latency.TotalMilliseconds < 1000
            ? Math.Max(1, Math.Round(latency.TotalMilliseconds)).ToString("0", CultureInfo.InvariantCulture) + " ms"
            : latency.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s";
}
