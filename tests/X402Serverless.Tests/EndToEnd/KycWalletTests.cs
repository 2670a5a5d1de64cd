using System.Net;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Kyc;
using X402Serverless.Core.Ports;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.EndToEnd.PaidLinkClient;

namespace X402Serverless.Tests.EndToEnd;

/// <summary>An x402 payer on a link that asks for KYC counts as verified when a verification lists its wallet.</summary>
[Collection(ChainGroup.Name)]
public sealed class KycWalletTests(ChainFixture chain)
{
    [Fact]
    public async Task An_unverified_wallet_is_refused_before_anything_is_reserved_or_called_and_a_verified_one_pays()
    {
        var link = await chain.CreateLinkAsync(kycLevel: "basic");
        var requirement = await RequirementAsync(link.Url);
        var payment = new PaymentBuilder { Requirement = requirement, PayerKey = chain.PayerKey };

        using (var refused = await SendAsync(link.Url, payment.V2Header()))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal("kyc_required", await ProblemCodeAsync(refused));
        }
        Assert.Equal(0, chain.Upstream.Hits(link.UpstreamPath));
        Assert.Equal(0, await chain.BalanceAsync(link.PayTo));

        await chain.Gateway.Services.GetRequiredService<IKycStore>().SaveIfNewerAsync(new KycRecord
        {
            SubjectId = "pay_" + Guid.NewGuid().ToString("N"), Status = KycStatuses.Verified, Level = KycLevels.Full, Reference = "inq_wallet",
            Wallets = [chain.Payer.ToString().ToLowerInvariant()], DecidedAt = DateTimeOffset.UtcNow,
        }, default);

        // The refused authorization was never reserved, so the same signed header now pays.
        using var paid = await SendAsync(link.Url, payment.V2Header());
        Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
        Assert.Equal(1, chain.Upstream.Hits(link.UpstreamPath));
        Assert.Equal(10_000, await chain.BalanceAsync(link.PayTo));
    }
}
