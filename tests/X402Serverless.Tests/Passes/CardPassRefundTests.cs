using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Passes;
using X402Serverless.Core.Ports;
using X402Serverless.Tests.Credits;
using X402Serverless.Tests.Stripe;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Passes;

/// <summary>A card pass whose payment is refunded or disputed in Stripe: revoked with the reason, the provider's money taken back.</summary>
public sealed class CardPassRefundTests(CardPassFixture fixture) : IClassFixture<CardPassFixture>
{
    [Fact]
    public async Task A_partly_refunded_pass_is_revoked_as_refunded_its_calls_gone_and_the_refunded_part_taken_from_the_provider()
    {
        var (org, organisationId) = await fixture.NewOrganisationAsync();
        var (linkId, url, path) = await fixture.NewPassLinkAsync(org, new { price = "5.00", calls = 3 });
        var buyer = await CreditsFixture.NewPayerAsync(org, new { name = "Card buyer" });
        var (session, pi) = await BoughtAsync(linkId, buyer.Key, 500);
        using (var first = await CallAsync(url, buyer.Key))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }
        Assert.Equal(4_950_000, await BalanceAsync(Accounts.Earnings(organisationId)));

        // 1.00 of 5.00 refunded in Stripe's dashboard.
        Assert.Equal("reversed_refund", await DeliverAndWaitAsync(CardRefundTests.Refunded("evt_pr_" + pi, pi, 500, 100)));

        using (var after = await CallAsync(url, buyer.Key))
        {
            Assert.Equal(HttpStatusCode.PaymentRequired, after.StatusCode);
        }
        Assert.Equal(1, fixture.Upstream.Hits(path));
        var listed = (await org.GetFromJsonAsync<JsonElement>($"/api/links/{linkId}/passes")).GetProperty("items")[0];
        Assert.Equal(("revoked", "refunded"), (listed.GetProperty("status").GetString(), listed.GetProperty("revokedReason").GetString()));
        // The provider's share of the refunded 1.00 (0.99) and the operator's 1% fee (0.01) are taken back.
        Assert.Equal(3_960_000, await BalanceAsync(Accounts.Earnings(organisationId)));
        Assert.Equal(0, (await Ledger.TotalAsync(default)).Micros);

        // A dispute later: the rest taken back, the pass stays revoked with its first reason.
        Assert.Equal("reversed_dispute", await DeliverAndWaitAsync(CardRefundTests.Dispute("evt_pd_" + pi, pi, 500, "dispute.created", "needs_response")));
        Assert.Equal(0, await BalanceAsync(Accounts.Earnings(organisationId)));
        var pass = Assert.Single(await fixture.Passes.ListForLinkAsync(linkId, 10, default));
        Assert.Equal(PassRevocations.Refunded, pass.RevokedReason);
        Assert.Equal("stripe:" + session, pass.PaymentRef);
    }

    [Fact]
    public async Task A_refund_for_a_pass_the_provider_already_withdrew_is_owed_by_the_provider_not_taken_below_zero()
    {
        var (org, organisationId) = await fixture.NewOrganisationAsync();
        var (linkId, _, _) = await fixture.NewPassLinkAsync(org, new { price = "2.00", minutes = 60 });
        var buyer = await CreditsFixture.NewPayerAsync(org, new { name = "Disputer" });
        var (_, pi) = await BoughtAsync(linkId, buyer.Key, 200);
        // An inquiry first: no money moved, nothing taken, the pass still works.
        Assert.Equal("dispute_inquiry", await DeliverAndWaitAsync(CardRefundTests.Dispute("evt_wi_" + pi, pi, 200, "dispute.created", "warning_needs_response")));
        Assert.Null(Assert.Single(await fixture.Passes.ListForLinkAsync(linkId, 10, default)).RevokedAt);
        // The provider moved its earnings on (1.98) before the chargeback.
        Assert.Equal(PostResult.Posted, await Ledger.PostAsync(LedgerEntry.Transfer("payout_" + pi, "payout", Accounts.Earnings(organisationId), "clearing:payout",
            Core.Money.Usd.FromMicros(1_980_000)), [], default));

        Assert.Equal("reversed_dispute", await DeliverAndWaitAsync(CardRefundTests.Dispute("evt_wd_" + pi, pi, 200, "dispute.funds_withdrawn", "needs_response")));

        Assert.Equal(0, await BalanceAsync(Accounts.Earnings(organisationId)));
        Assert.Equal(-1_980_000, await BalanceAsync(Accounts.Owed(Accounts.Earnings(organisationId))));
        Assert.Equal(PassRevocations.Disputed, Assert.Single(await fixture.Passes.ListForLinkAsync(linkId, 10, default)).RevokedReason);
        Assert.Equal(0, (await Ledger.TotalAsync(default)).Micros);
    }

    /// <summary>A pass bought by card with the buyer's payer key, paid (the completed event carries its PaymentIntent).</summary>
    private async Task<(string Session, string PaymentIntent)> BoughtAsync(string linkId, string payerKey, long cents)
    {
        using var browser = CardPassFixture.Browser();
        using (var started = await fixture.PostCardFormAsync(browser, linkId, payerKey))
        {
            Assert.Equal(HttpStatusCode.SeeOther, started.StatusCode);
        }
        var session = fixture.SessionFor(linkId).Id;
        var pi = "pi_" + Guid.NewGuid().ToString("N");
        Assert.Equal("pass_issued", await DeliverAndWaitAsync(CardRefundTests.Completed("evt_b_" + session, session, cents, pi)));
        return (session, pi);
    }

    private async Task<string> DeliverAndWaitAsync(string payload)
    {
        var id = JsonDocument.Parse(payload).RootElement.GetProperty("id").GetString()!;
        using (var response = await fixture.DeliverAsync(payload))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        await fixture.WaitProcessedAsync(id);
        return await CardRefundTests.OutcomeAsync(fixture.Gateway, id);
    }

    private async Task<long> BalanceAsync(string account) => (await Ledger.BalanceAsync(account, default)).Micros;

    private ILedger Ledger => fixture.Gateway.Services.GetRequiredService<ILedger>();

    private static async Task<HttpResponseMessage> CallAsync(string url, string payerKey)
    {
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new("Bearer", payerKey);
        return await client.SendAsync(request);
    }
}
