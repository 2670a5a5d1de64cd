using X402Serverless.Core.Ports;
using X402Serverless.Core.Usage;

namespace X402Serverless.Tests.Stores;

/// <summary>What every IUsageStore adapter must do.</summary>
public abstract class UsageStoreContract
{
    protected abstract Task<IUsageStore> StoreAsync();

    [Fact]
    public async Task Counts_add_up_per_link_day_and_kind_even_when_flushed_concurrently_and_list_from_a_day_on()
    {
        var store = await StoreAsync();
        var org = "org_" + Guid.NewGuid().ToString("N")[..8];
        await store.AddAsync([new(org, "lnk_a", "2026-11-20", UsageKinds.Paid, 5)], default);
        await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => store.AddAsync(
            [new(org, "lnk_a", "2026-11-21", UsageKinds.Challenged, 2), new(org, "lnk_a", "2026-11-21", UsageKinds.Paid, 1), new(org, "lnk_b", "2026-11-21", UsageKinds.NotCharged, 1)],
            default)));
        await store.AddAsync([new("org_other", "lnk_x", "2026-11-21", UsageKinds.Paid, 9)], default);
        await store.AddAsync([new(org, "lnk_a", "2026-11-21", UsageKinds.RateLimited, 4)], default);
        await store.AddAsync([new(org, "lnk_a", "2026-11-21", UsageKinds.RateLimited, 3)], default);

        var all = await store.ListAsync(org, "2026-11-01", default);
        Assert.Equal(5, all.Single(c => c.Day == "2026-11-20").Count);
        Assert.Equal(12, all.Single(c => c.LinkId == "lnk_a" && c.Day == "2026-11-21" && c.Kind == UsageKinds.Challenged).Count);
        Assert.Equal(6, all.Single(c => c.LinkId == "lnk_a" && c.Day == "2026-11-21" && c.Kind == UsageKinds.Paid).Count);
        Assert.Equal(6, all.Single(c => c.LinkId == "lnk_b").Count);
        Assert.Equal(7, all.Single(c => c.LinkId == "lnk_a" && c.Kind == UsageKinds.RateLimited).Count);
        Assert.DoesNotContain(all, c => c.LinkId == "lnk_x");
        Assert.All(await store.ListAsync(org, "2026-11-21", default), c => Assert.Equal("2026-11-21", c.Day));
    }

    [Fact]
    public async Task Latency_buckets_are_counters_like_the_rest_and_add_up_to_percentiles_over_days()
    {
        var store = await StoreAsync();
        var org = "org_" + Guid.NewGuid().ToString("N")[..8];
        var fast = LatencyHistogram.Kinds[LatencyHistogram.Bucket(TimeSpan.FromMilliseconds(20))];
        var slow = LatencyHistogram.Kinds[LatencyHistogram.Bucket(TimeSpan.FromMilliseconds(900))];
        // The same flush as the call counters, concurrently, on two days.
        await Task.WhenAll(Enumerable.Range(0, 5).Select(i => store.AddAsync(
            [new(org, "lnk_a", "2026-11-20", UsageKinds.Paid, 2), new(org, "lnk_a", "2026-11-20", fast, 2), new(org, "lnk_a", $"2026-11-2{i % 2 + 1}", slow, 1)],
            default)));

        var counts = await store.ListAsync(org, "2026-11-01", default);
        Assert.Equal(10, counts.Single(c => c.Kind == fast).Count);
        Assert.Equal(5, counts.Where(c => c.Kind == slow).Sum(c => c.Count));
        var latency = LatencyHistogram.Summarise(counts);
        Assert.Equal(15, latency.Samples);
        // 10 of 15 answers near 20 ms: the median is within 20 ms's bucket, the 95th percentile within 900 ms's.
        var fastBucket = LatencyHistogram.Bucket(TimeSpan.FromMilliseconds(20));
        Assert.InRange(latency.P50!.Value.TotalMilliseconds, LatencyHistogram.LowerMilliseconds(fastBucket), LatencyHistogram.UpperMilliseconds(fastBucket));
        var slowBucket = LatencyHistogram.Bucket(TimeSpan.FromMilliseconds(900));
        Assert.InRange(latency.P95!.Value.TotalMilliseconds, LatencyHistogram.LowerMilliseconds(slowBucket), LatencyHistogram.UpperMilliseconds(slowBucket));
    }

    [Fact]
    public async Task Revenue_error_and_payer_counters_keep_their_kinds_and_large_sums_exactly()
    {
        var store = await StoreAsync();
        var org = "org_" + Guid.NewGuid().ToString("N")[..8];
        var self = PayerKey.OfWallet("0x209693Bc6afc0C5328bA36FaF03C514EF312287C", "0x209693bc6afc0c5328ba36faf03c514ef312287c");
        var account = PayerKey.OfAccount("payer_" + Guid.NewGuid().ToString("N")[..8]);
        // Amounts in micros add up past what an int holds, from concurrent flushes.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => store.AddAsync(
        [
            new(org, "lnk_a", "2026-11-21", ChargeKinds.Revenue("x402"), 3_000_000_000),
            new(org, "lnk_a", "2026-11-21", ChargeKinds.PayerCalls(self), 1),
            new(org, "lnk_a", "2026-11-21", ChargeKinds.PayerUsd(account), 10_000),
            new(org, "lnk_a", "2026-11-21", ChargeKinds.Error(ChargeKinds.Timeout), 1),
        ], default)));

        var counts = await store.ListAsync(org, "2026-11-21", default);
        Assert.Equal(12_000_000_000, counts.Single(c => c.Kind == "revenue:x402").Count);
        Assert.Equal(4, counts.Single(c => c.Kind == "payer_calls:ws:0x209693bc6afc0c5328ba36faf03c514ef312287c").Count);
        Assert.Equal(40_000, counts.Single(c => c.Kind == ChargeKinds.PayerUsd(account)).Count);
        Assert.Equal(4, counts.Single(c => c.Kind == "error:timeout").Count);
        Assert.True(PayerKey.TryParse(counts.Single(c => c.Kind.StartsWith(ChargeKinds.PayerCallsPrefix, StringComparison.Ordinal)).Kind[ChargeKinds.PayerCallsPrefix.Length..], out var parsed));
        Assert.True(parsed.IsSelfPayment);
    }
}
