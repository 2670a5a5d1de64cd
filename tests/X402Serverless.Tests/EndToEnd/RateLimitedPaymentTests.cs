using System.Net.Http.Json;
using System.Text.Json;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.EndToEnd.PaidLinkClient;

namespace X402Serverless.Tests.EndToEnd;

/// <summary>An x402 call refused by the wallet's rate limit uses nothing: the same payment later pays once, on chain.</summary>
[Collection(ChainGroup.Name)]
public sealed class RateLimitedPaymentTests(ChainFixture chain)
{
    [Fact]
    public async Task A_payment_refused_429_is_not_settled_and_the_same_payment_pays_once_when_retried_after_the_limit()
    {
        var payTo = ChainFixture.NewAddress();
        var (id, url) = await chain.Gateway.CreateLinkAsync(new
        {
            upstream = chain.Upstream.BaseUrl + $"/ok/{Guid.NewGuid():N}",
            price = "0.001",
            payTo = payTo.ToString(),
            facilitator = "builtin",
            rateLimit = new { perPayer = new { requests = 1, perSeconds = 86_400 } },
        });
        var requirement = await RequirementAsync(url);

        // A payment claiming this wallet but signed by another key is refused as a payment (402) and takes none of
        // the wallet's tokens: only a payment the wallet signed counts against it.
        for (var i = 0; i < 3; i++)
        {
            using var forged = await SendAsync(url, new PaymentBuilder
            {
                Requirement = requirement, PayerKey = chain.PayerKey, SigningKey = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32),
            }.V2Header());
            Assert.Equal(402, (int)forged.StatusCode);
        }
        using (var first = await SendAsync(url, new PaymentBuilder { Requirement = requirement, PayerKey = chain.PayerKey }.V2Header()))
        {
            Assert.Equal(200, (int)first.StatusCode);
        }
        Assert.Equal(1, await chain.Rpc.TransferLogCountAsync(chain.Token, payTo));

        var second = new PaymentBuilder { Requirement = requirement, PayerKey = chain.PayerKey }.V2Header();
        using (var limited = await SendAsync(url, second))
        {
            await ProblemAssert.IsAsync(limited, 429, "rate_limited");
            Assert.NotNull(limited.Headers.RetryAfter?.Delta);
        }
        Assert.Equal(1, await chain.Rpc.TransferLogCountAsync(chain.Token, payTo));

        // The limit lifted (as a refill would), the refused payment is still good: it pays once.
        using (var lifted = await chain.Gateway.Admin.PatchAsync($"/api/links/{id}", JsonContent.Create(JsonDocument.Parse("""{"rateLimit":null}""").RootElement)))
        {
            lifted.EnsureSuccessStatusCode();
        }
        using (var retried = await SendAsync(url, second))
        {
            Assert.Equal(200, (int)retried.StatusCode);
        }
        Assert.Equal(2, await chain.Rpc.TransferLogCountAsync(chain.Token, payTo));
        Assert.Equal(2_000, await chain.BalanceAsync(payTo));
    }
}
