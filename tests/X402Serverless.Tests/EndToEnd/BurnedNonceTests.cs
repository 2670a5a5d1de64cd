using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using X402Serverless.Core.Crypto;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.EndToEnd.PaidLinkClient;

namespace X402Serverless.Tests.EndToEnd;

/// <summary>
/// A used nonce is not a payment. The payer burns nonce N with a 0-value self-transfer submitted by a bystander,
/// then presents the real authorization with N: nobody may be served, charged or credited for it, whoever settles.
/// </summary>
[Collection(ChainGroup.Name)]
public sealed class BurnedNonceTests(ChainFixture chain)
{
    private const string ConsumedElsewhere = "authorization_consumed_elsewhere";

    [Theory]
    [InlineData("sync", "builtin")]
    [InlineData("sync", "remote")]
    [InlineData("deferred", "builtin")]
    [InlineData("deferred", "remote")]
    public async Task A_burned_nonce_gets_no_content_and_pays_nothing(string settlement, string facilitator)
    {
        // A deferred link serves a new wallet sync by default, so the burn is caught before any content goes out.
        var link = await chain.CreateLinkAsync(settlement: settlement, facilitator: facilitator);
        var payerKey = await NonceBurner.FundedPayerAsync(chain, 1_000_000);
        var payment = new PaymentBuilder { Requirement = await RequirementAsync(link.Url), PayerKey = payerKey };
        await NonceBurner.BurnAsync(chain, payerKey, payment.Nonce);

        using var response = await SendAsync(link.Url, payment.V2Header());

        Assert.Equal(ConsumedElsewhere, await ErrorOfAsync(response));
        Assert.False(response.Headers.Contains("X-Payment-Settlement"));
        Assert.DoesNotContain(link.UpstreamPath, await response.Content.ReadAsStringAsync());
        Assert.Equal(0, await chain.BalanceAsync(link.PayTo));
        Assert.Equal(1_000_000, await chain.BalanceAsync(payment.Payer));
        var failed = Assert.Single(await PaymentsApiClient.ListAsync(chain.Gateway, link.Id, "failed"));
        Assert.Equal(ConsumedElsewhere, failed.GetProperty("failureReason").GetString());
        Assert.Empty(await PaymentsApiClient.ListAsync(chain.Gateway, link.Id, "settled"));
    }

    [Theory]
    [InlineData("builtin")]
    [InlineData("remote")]
    public async Task A_cancelled_authorization_gets_no_content_and_pays_nothing(string facilitator)
    {
        var link = await chain.CreateLinkAsync(facilitator: facilitator);
        var payerKey = await NonceBurner.FundedPayerAsync(chain, 1_000_000);
        var payment = new PaymentBuilder { Requirement = await RequirementAsync(link.Url), PayerKey = payerKey };
        await NonceBurner.CancelAsync(chain, payerKey, payment.Nonce);

        using var response = await SendAsync(link.Url, payment.V2Header());

        Assert.Equal(ConsumedElsewhere, await ErrorOfAsync(response));
        Assert.Equal(0, await chain.BalanceAsync(link.PayTo));
        Assert.Equal(ConsumedElsewhere, Assert.Single(await PaymentsApiClient.ListAsync(chain.Gateway, link.Id, "failed")).GetProperty("failureReason").GetString());
    }

    [Fact]
    public async Task An_authorization_about_to_run_out_is_served_only_after_it_settles()
    {
        // Content-first with a window too short to settle in would be a free call: such a payment is settled first.
        var link = await chain.CreateLinkAsync(settlement: "deferred", facilitator: "builtin", deferredPayers: "any");
        var payerKey = await NonceBurner.FundedPayerAsync(chain, 1_000_000);
        var payment = new PaymentBuilder
        {
            Requirement = await RequirementAsync(link.Url), PayerKey = payerKey, ValidBefore = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 30,
        };

        using var response = await SendAsync(link.Url, payment.V2Header());

        Assert.Equal(200, (int)response.StatusCode);
        Assert.False(response.Headers.Contains("X-Payment-Settlement"));
        Assert.True(response.Headers.Contains("PAYMENT-RESPONSE"));
        Assert.Equal(10_000, await chain.BalanceAsync(link.PayTo));
    }

    [Theory]
    [InlineData("builtin")]
    [InlineData("remote")]
    public async Task A_deferred_payment_whose_nonce_is_burned_after_serving_is_recorded_failed_and_the_wallet_pays_first_from_then_on(string facilitator)
    {
        var link = await chain.CreateLinkAsync(settlement: "deferred", facilitator: facilitator, deferredPayers: "any");
        var payerKey = await NonceBurner.FundedPayerAsync(chain, 1_000_000);
        var requirement = await RequirementAsync(link.Url);
        var payment = new PaymentBuilder { Requirement = requirement, PayerKey = payerKey };

        // The job cannot run before the burn: the worker is told of the job only after the content went out, and
        // the burn is mined before the test looks at the job. Either order ends the same way: failed, unpaid.
        await NonceBurner.BurnAsync(chain, payerKey, payment.Nonce);
        using var served = await SendAsync(link.Url, payment.V2Header());
        Assert.Equal(200, (int)served.StatusCode);
        Assert.Equal("deferred", served.Headers.GetValues("X-Payment-Settlement").Single());
        var job = await PaymentsApiClient.WaitForEndAsync(chain.Gateway, served.Headers.GetValues("X-Payment-Id").Single(), TimeSpan.FromSeconds(30));
        Assert.Equal("failed", job.GetProperty("status").GetString());
        Assert.Equal(ConsumedElsewhere, job.GetProperty("failureReason").GetString());
        Assert.Equal(0, await chain.BalanceAsync(link.PayTo));

        // The same wallet, now with a good payment, waits for settlement before it sees content.
        using var next = await SendAsync(link.Url, new PaymentBuilder { Requirement = requirement, PayerKey = payerKey }.V2Header());
        Assert.Equal(200, (int)next.StatusCode);
        Assert.False(next.Headers.Contains("X-Payment-Settlement"));
        Assert.True(next.Headers.Contains("PAYMENT-RESPONSE"));
        Assert.Equal(10_000, await chain.BalanceAsync(link.PayTo));
    }

    [Fact]
    public async Task A_deferred_link_serves_a_wallet_content_first_only_once_it_has_settled_a_payment_here()
    {
        var link = await chain.CreateLinkAsync(settlement: "deferred", facilitator: "builtin");
        var payerKey = await NonceBurner.FundedPayerAsync(chain, 1_000_000);
        var requirement = await RequirementAsync(link.Url);

        using var first = await SendAsync(link.Url, new PaymentBuilder { Requirement = requirement, PayerKey = payerKey }.V2Header());
        Assert.Equal(200, (int)first.StatusCode);
        Assert.False(first.Headers.Contains("X-Payment-Settlement"));
        Assert.True(first.Headers.Contains("PAYMENT-RESPONSE"));

        using var second = await SendAsync(link.Url, new PaymentBuilder { Requirement = requirement, PayerKey = payerKey }.V2Header());
        Assert.Equal(200, (int)second.StatusCode);
        Assert.Equal("deferred", second.Headers.GetValues("X-Payment-Settlement").Single());
        var job = await PaymentsApiClient.WaitForEndAsync(chain.Gateway, second.Headers.GetValues("X-Payment-Id").Single(), TimeSpan.FromSeconds(30));
        Assert.Equal("settled", job.GetProperty("status").GetString());
        Assert.Equal(20_000, await chain.BalanceAsync(link.PayTo));
    }

    [Fact]
    public async Task A_nonce_burned_while_the_upstream_answers_a_verify_on_chain_link_gets_no_content()
    {
        // The upstream itself burns the nonce before it answers: the check before forwarding passed, settlement must not.
        byte[]? burnKey = null;
        byte[]? burnNonce = null;
        var (upstream, upstreamUrl) = await LoopbackApp.StartAsync(app => app.MapGet("/answer", async () =>
        {
            await NonceBurner.BurnAsync(chain, burnKey!, burnNonce!);
            return Results.Json(new { secret = "the paid content" });
        }));
        await using var upstreamApp = upstream;
        var payTo = ChainFixture.NewAddress();
        var (_, url) = await chain.Gateway.CreateLinkAsync((object)new
        {
            upstream = upstreamUrl + "/answer", price = "0.01", payTo = payTo.ToString(), facilitator = "builtin", verifyOnChain = true,
        });
        burnKey = await NonceBurner.FundedPayerAsync(chain, 1_000_000);
        var payment = new PaymentBuilder { Requirement = await RequirementAsync(url), PayerKey = burnKey };
        burnNonce = payment.Nonce;

        using var response = await SendAsync(url, payment.V2Header());

        Assert.Equal(ConsumedElsewhere, await ErrorOfAsync(response));
        Assert.DoesNotContain("the paid content", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, await chain.BalanceAsync(payTo));
    }

    [Fact]
    public async Task A_top_up_paid_with_a_burned_nonce_credits_nothing()
    {
        using var created = await chain.Gateway.Admin.PostAsJsonAsync("/api/payers", new { name = "Minter" });
        var json = await created.Content.ReadFromJsonAsync<JsonElement>();
        using var client = chain.Gateway.Client(json.GetProperty("key").GetString());
        using var unpaid = await client.PostAsync("/api/me/topup?amount=500.00", null);
        var payerKey = await NonceBurner.FundedPayerAsync(chain, 1_000_000);
        var payment = new PaymentBuilder { Requirement = PaymentBuilder.RequirementFrom(unpaid), PayerKey = payerKey };
        await NonceBurner.BurnAsync(chain, payerKey, payment.Nonce);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/me/topup?amount=500.00");
        request.Headers.TryAddWithoutValidation("PAYMENT-SIGNATURE", payment.V2Header());
        using var response = await client.SendAsync(request);

        Assert.Equal(ConsumedElsewhere, await ErrorOfAsync(response));
        var me = await client.GetFromJsonAsync<JsonElement>("/api/me");
        Assert.Equal("0.00", me.GetProperty("credits").GetString());
    }
}
