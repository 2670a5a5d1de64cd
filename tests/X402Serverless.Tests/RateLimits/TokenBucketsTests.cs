using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using X402Serverless.Core.Links;
using X402Serverless.Handler.Hosting;
using X402Serverless.Handler.RateLimits;

namespace X402Serverless.Tests.RateLimits;

/// <summary>The in-memory token buckets: burst, refill on the injected clock, independent keys, bounded memory.</summary>
public sealed class TokenBucketsTests
{
    private static TokenBuckets Buckets(FakeTimeProvider clock, int maxBuckets = 100_000) =>
        new(clock, Options.Create(new GatewayOptions { RateLimits = new RateLimitOptions { MaxBuckets = maxBuckets } }));

    [Fact]
    public void A_full_bucket_serves_its_burst_then_says_how_long_until_the_next_token()
    {
        var clock = new FakeTimeProvider();
        var buckets = Buckets(clock);
        var limit = new RateLimit(3, 30);
        for (var i = 0; i < 3; i++)
        {
            Assert.Null(buckets.TryTake("k", limit));
        }
        Assert.Equal(TimeSpan.FromSeconds(10), buckets.TryTake("k", limit));

        // A refused call took nothing: the wait shrinks with time only.
        clock.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(TimeSpan.FromSeconds(6), buckets.TryTake("k", limit));
        clock.Advance(TimeSpan.FromSeconds(6));
        Assert.Null(buckets.TryTake("k", limit));
        Assert.NotNull(buckets.TryTake("k", limit));

        // Idle for the whole period: full again, never more than full.
        clock.Advance(TimeSpan.FromMinutes(10));
        for (var i = 0; i < 3; i++)
        {
            Assert.Null(buckets.TryTake("k", limit));
        }
        Assert.NotNull(buckets.TryTake("k", limit));
    }

    [Fact]
    public void Keys_have_their_own_buckets()
    {
        var buckets = Buckets(new FakeTimeProvider());
        var limit = new RateLimit(1, 60);
        Assert.Null(buckets.TryTake("a", limit));
        Assert.NotNull(buckets.TryTake("a", limit));
        Assert.Null(buckets.TryTake("b", limit));
    }

    [Fact]
    public void A_flood_of_new_keys_cannot_grow_memory_past_the_bound_and_a_busy_limited_key_stays_limited()
    {
        var clock = new FakeTimeProvider();
        var buckets = Buckets(clock, maxBuckets: 1_000);
        var limit = new RateLimit(1, 3600);
        Assert.Null(buckets.TryTake("busy", limit));
        for (var i = 0; i < 50_000; i++)
        {
            buckets.TryTake($"flood-{i}", limit);
            if (i % 500 == 0)
            {
                // The limited caller keeps calling (and being refused): recently used, so not the one evicted.
                clock.Advance(TimeSpan.FromMilliseconds(1));
                Assert.NotNull(buckets.TryTake("busy", limit));
            }
            Assert.True(buckets.Count <= 1_000, $"{buckets.Count} buckets after {i + 1} keys");
        }

        // Idle buckets (full again) are the first to go.
        clock.Advance(TimeSpan.FromHours(2));
        Assert.Null(buckets.TryTake("after", limit));
        Assert.True(buckets.Count <= 1_000);
    }
}
