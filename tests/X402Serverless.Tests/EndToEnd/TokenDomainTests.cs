using Microsoft.Extensions.Logging;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.EndToEnd.PaidLinkClient;

namespace X402Serverless.Tests.EndToEnd;

/// <summary>
/// Payers sign over the configured token domain: a network whose token says otherwise is found at start and takes
/// no payments, instead of failing every settlement after the upstream has served.
/// </summary>
[Collection(ChainGroup.Name)]
public sealed class TokenDomainTests(ChainFixture chain)
{
    [Fact]
    public async Task A_network_whose_token_domain_differs_from_the_configuration_takes_no_payments()
    {
        var settings = chain.GatewaySettings(chain.FacilitatorUrl);
        settings["X402:Networks:0:TokenName"] = "Wrong Coin";
        await using var gateway = await GatewayHost.StartAsync(settings);
        var refusal = await WaitForLogAsync(gateway, "Network eip155:84532 takes no payments");
        Assert.Equal(LogLevel.Error, refusal.Level);
        Assert.Contains("signs as \"USD Coin\" version \"2\"", refusal.Message, StringComparison.Ordinal);
        Assert.Contains("configured with \"Wrong Coin\"", refusal.Message, StringComparison.Ordinal);

        var link = await chain.CreateLinkAsync(gateway: gateway);
        using var http = new HttpClient();
        using var unpaid = await http.GetAsync(link.Url);

        Assert.Equal(503, (int)unpaid.StatusCode);
        Assert.Equal("link_unpayable", await ProblemCodeAsync(unpaid));
        Assert.Equal(0, chain.Upstream.Hits(link.UpstreamPath));
    }

    [Fact]
    public async Task A_network_whose_token_agrees_is_checked_and_takes_payments()
    {
        var settings = chain.GatewaySettings(chain.FacilitatorUrl);
        await using var gateway = await GatewayHost.StartAsync(settings);
        await WaitForLogAsync(gateway, "Network eip155:84532: the token's EIP-712 domain is \"USD Coin\" version 2, as configured");

        var link = await chain.CreateLinkAsync(gateway: gateway);
        Assert.Equal(ChainFixture.V2Network, (await RequirementAsync(link.Url))["network"]!.GetValue<string>());
    }

    private static async Task<(LogLevel Level, string Message)> WaitForLogAsync(GatewayHost gateway, string start)
    {
        (LogLevel Level, string Message) found = default;
        await Poll.UntilAsync(() =>
        {
            found = gateway.Logs.Entries.FirstOrDefault(e => e.Message.StartsWith(start, StringComparison.Ordinal));
            return Task.FromResult(found.Message is not null);
        }, TimeSpan.FromSeconds(30));
        return found;
    }
}
