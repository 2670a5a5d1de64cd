using X402Serverless.Core.Money;
using X402Serverless.Handler.Paywall;

namespace X402Serverless.Tests.Paywall;

/// <summary>The caller chooses the URL a challenge repeats, so what a link keeps of them stays small.</summary>
public sealed class ChallengeCacheTests
{
    private static readonly Usd Price = Usd.Parse("0.01");
    private static readonly RenderedChallenge Rendered = new("header", [1, 2, 3]);

    [Fact]
    public void A_long_caller_chosen_url_is_answered_but_not_kept()
    {
        var cache = new ChallengeCache();
        var longUrl = "https://gw.example/l/lnk_1?q=" + new string('a', ChallengeCache.MaxUrlLength);
        cache.Remember(Price, "GET", longUrl, "https://gw.example", Rendered);
        Assert.Null(cache.Find(Price, "GET", longUrl, "https://gw.example"));
        Assert.Equal(0, cache.Count);

        cache.Remember(Price, "GET", "https://gw.example/l/lnk_1", "https://gw.example", Rendered);
        Assert.Same(Rendered, cache.Find(Price, "GET", "https://gw.example/l/lnk_1", "https://gw.example"));
    }

    [Fact]
    public void Many_distinct_queries_never_grow_it_past_its_bound()
    {
        var cache = new ChallengeCache();
        for (var i = 0; i < 10_000; i++)
        {
            cache.Remember(Price, "GET", $"https://gw.example/l/lnk_1?n={i}", "https://gw.example", Rendered);
            Assert.InRange(cache.Count, 1, 16);
        }
    }
}
