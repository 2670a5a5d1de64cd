using X402Serverless.Core.Links;
using X402Serverless.Core.Money;

namespace X402Serverless.Tests.Links;

public sealed class PriceRuleTests
{
    private static readonly PriceRule AnyPost = new("POST", null, Usd.Parse("0.05"));
    private static readonly PriceRule Premium = new(null, "/v2/premium", Usd.Parse("1.00"));
    private static readonly PriceRule PremiumPost = new("POST", "/v2/premium", Usd.Parse("2.00"));
    private static readonly PriceRule V2 = new(null, "/v2", Usd.Parse("0.10"));

    [Theory]
    [InlineData("GET", "/v1/quote", null)]
    [InlineData("POST", "/v1/quote", "0.05")]
    [InlineData("GET", "/v2", "0.10")]
    [InlineData("GET", "/v2/other", "0.10")]
    [InlineData("GET", "/v2/premium", "1.00")]
    [InlineData("GET", "/v2/premium/deep/path", "1.00")]
    [InlineData("post", "/v2/premium/x", "2.00")]
    [InlineData("GET", "/v20", null)]
    [InlineData("GET", "/v2/premiumx", "0.10")]
    [InlineData("POST", "/v2/premiumx", "0.10")]
    public void The_most_specific_rule_wins_on_whole_path_segments(string method, string path, string? expected)
    {
        var match = PriceRule.Match([AnyPost, Premium, PremiumPost, V2], method, path);
        Assert.Equal(expected, match?.Price.ToString());
    }

    [Fact]
    public void The_order_rules_are_written_in_does_not_change_the_price()
    {
        PriceRule[] rules = [AnyPost, Premium, PremiumPost, V2];
        foreach (var order in new[] { rules, rules.Reverse().ToArray(), [V2, PremiumPost, AnyPost, Premium] })
        {
            Assert.Same(PremiumPost, PriceRule.Match(order, "POST", "/v2/premium/a"));
            Assert.Same(V2, PriceRule.Match(order, "POST", "/v2/a"));
        }
    }

    [Fact]
    public void A_link_without_a_matching_rule_costs_its_own_price()
    {
        var link = new PaidLink
        {
            Id = "lnk_x", OrganisationId = "org", Upstream = "https://api.example/", Price = Usd.Parse("0.01"),
            PayTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", Networks = [], Methods = [], PriceRules = [Premium],
            CreatedAt = DateTimeOffset.UnixEpoch, UpdatedAt = DateTimeOffset.UnixEpoch,
        };
        Assert.Equal(Usd.Parse("0.01"), link.PriceFor("GET", "/free"));
        Assert.Equal(Usd.Parse("1.00"), link.PriceFor("GET", "/v2/premium"));
    }

    [Fact]
    public void Rules_round_trip_through_their_stored_json()
    {
        IReadOnlyList<PriceRule> rules = [AnyPost, Premium];
        var json = PriceRulesJson.Write(rules);
        Assert.Equal("""[{"method":"POST","price":"0.05"},{"pathPrefix":"/v2/premium","price":"1.00"}]""", json);
        Assert.Equal(rules, PriceRulesJson.Read(json));
        Assert.Empty(PriceRulesJson.Read("[]"));
        Assert.Empty(PriceRulesJson.Read(null));
    }
}
