using System.Security.Cryptography;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.EndToEnd.PaidLinkClient;

namespace X402Serverless.Tests.EndToEnd;

/// <summary>With VerifyWithFacilitator on, the facilitator's on-chain simulation screens payers before the upstream is called.</summary>
[Collection(ChainGroup.Name)]
public sealed class FacilitatorVerifyTests(ChainFixture chain)
{
    [Fact]
    public async Task A_payer_without_funds_is_refused_before_the_upstream_is_called_and_a_funded_one_is_served()
    {
        var settings = chain.GatewaySettings(chain.FacilitatorUrl);
        settings["X402:VerifyWithFacilitator"] = "true";
        await using var gateway = await GatewayHost.StartAsync(settings);
        var link = await chain.CreateLinkAsync(gateway: gateway);
        var requirement = await RequirementAsync(link.Url);

        var broke = new PaymentBuilder { Requirement = requirement, PayerKey = RandomNumberGenerator.GetBytes(32) };
        using var refused = await SendAsync(link.Url, broke.V2Header());
        var reason = await ErrorOfAsync(refused);
        Assert.StartsWith("invalid_exact_evm_", reason, StringComparison.Ordinal);
        Assert.Equal(0, chain.Upstream.Hits(link.UpstreamPath));

        using var served = await SendAsync(link.Url, new PaymentBuilder { Requirement = requirement, PayerKey = chain.PayerKey }.V2Header());
        Assert.Equal(200, (int)served.StatusCode);
        Assert.Equal(1, chain.Upstream.Hits(link.UpstreamPath));
        Assert.Equal(10_000, await chain.BalanceAsync(link.PayTo));
    }
}
