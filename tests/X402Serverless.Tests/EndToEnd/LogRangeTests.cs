using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Networks;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.EndToEnd.PaidLinkClient;

namespace X402Serverless.Tests.EndToEnd;

/// <summary>
/// Real RPC providers refuse eth_getLogs over wide block ranges. The lookup that tells a paid authorization from a
/// burned one searches back in ranges the network allows, so it reaches its verdict behind such a provider too.
/// </summary>
[Collection(ChainGroup.Name)]
public sealed class LogRangeTests(ChainFixture chain)
{
    private const int Range = 5;

    [Fact]
    public async Task A_nonce_burned_many_blocks_ago_is_found_through_a_provider_that_caps_log_ranges()
    {
        await using var proxy = await RpcProxy.StartAsync(chain.RpcUrl);
        proxy.MaxLogRange = Range;
        var settings = chain.GatewaySettings(chain.FacilitatorUrl);
        settings["X402:Networks:0:RpcUrl"] = proxy.Url;
        settings["X402:Networks:0:LogRangeBlocks"] = Range.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["X402:Settlement:GasWalletKey"] = await chain.FundedWalletAsync();
        await using var gateway = await GatewayHost.StartAsync(settings);
        Assert.True(gateway.Services.GetRequiredService<NetworkRegistry>().TryGet(ChainFixture.V2Network, out var network));
        Assert.Equal(Range, network.LogRangeBlocks);

        var link = await chain.CreateLinkAsync(gateway: gateway, facilitator: "builtin");
        var payerKey = await NonceBurner.FundedPayerAsync(chain, 1_000_000);
        var payment = new PaymentBuilder { Requirement = await RequirementAsync(link.Url), PayerKey = payerKey };
        await NonceBurner.BurnAsync(chain, payerKey, payment.Nonce);
        await chain.Rpc.CallAsync("anvil_mine", "0x" + (4 * Range).ToString("x", System.Globalization.CultureInfo.InvariantCulture));

        using var response = await SendAsync(link.Url, payment.V2Header());

        Assert.Equal("authorization_consumed_elsewhere", await ErrorOfAsync(response));
        Assert.Equal(0, proxy.RefusedLogQueries); // every query stayed within the provider's range
        Assert.Equal(0, await chain.BalanceAsync(link.PayTo));
    }

    [Fact]
    public async Task A_lookup_wider_than_the_provider_allows_gets_no_verdict_and_nothing_is_settled_on_it()
    {
        // Configured wider than its provider allows: the lookup is refused, which is no answer, never a verdict.
        await using var proxy = await RpcProxy.StartAsync(chain.RpcUrl);
        proxy.MaxLogRange = Range;
        var settings = chain.GatewaySettings(chain.FacilitatorUrl);
        settings["X402:Networks:0:RpcUrl"] = proxy.Url;
        settings["X402:Settlement:GasWalletKey"] = await chain.FundedWalletAsync();
        await using var gateway = await GatewayHost.StartAsync(settings);
        var link = await chain.CreateLinkAsync(gateway: gateway, facilitator: "builtin");
        var payerKey = await NonceBurner.FundedPayerAsync(chain, 1_000_000);
        var payment = new PaymentBuilder { Requirement = await RequirementAsync(link.Url), PayerKey = payerKey };
        await NonceBurner.BurnAsync(chain, payerKey, payment.Nonce);

        using var response = await SendAsync(link.Url, payment.V2Header());

        Assert.Equal(503, (int)response.StatusCode);
        Assert.Equal("rpc_unavailable", await ProblemCodeAsync(response));
        Assert.True(proxy.RefusedLogQueries > 0);
        Assert.Empty(await PaymentsApiClient.ListAsync(gateway, link.Id, "settled"));
        Assert.Equal(0, await chain.BalanceAsync(link.PayTo));
    }
}
