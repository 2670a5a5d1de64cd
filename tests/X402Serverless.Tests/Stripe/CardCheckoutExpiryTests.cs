using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;
using X402Serverless.Core.Passes;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Stripe;
using X402Serverless.Core.Webhooks;
using X402Serverless.Handler.Settlement;
using X402Serverless.Tests.Credits;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Stripe;

/// <summary>
/// Checkouts that were never paid are forgotten (on Stripe's checkout.session.expired, or by the maintenance pass after
/// the retention), paid ones never; a completion arriving for a forgotten one credits nothing and is logged for a refund.
/// </summary>
public sealed class CardCheckoutExpiryTests(CreditsFixture fixture) : IClassFixture<CreditsFixture>
{
    [Fact]
    public async Task An_expired_session_is_forgotten_and_a_late_completion_for_it_credits_nothing()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await CreditsFixture.NewPayerAsync(org, new { name = "Abandoned checkout" });
        using var me = fixture.Gateway.Client(payer.Key);
        using var opened = await me.PostAsJsonAsync("/api/me/topups/card", new { amount = "5.00" });
        var session = (await opened.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("sessionId").GetString()!;
        var sent = fixture.Stripe.Sessions.Single(s => s.Id == session);
        // Opened with an expiry an hour out (the default), as Stripe's expires_at (Unix seconds).
        var expiresAt = DateTimeOffset.FromUnixTimeSeconds(long.Parse(sent.Form["expires_at"], System.Globalization.CultureInfo.InvariantCulture));
        Assert.InRange(expiresAt - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(55), TimeSpan.FromMinutes(61));

        Assert.Equal("topup_expired", await DeliverAndWaitAsync(Expired("evt_e_" + session, session)));
        Assert.Null(await TopUps.GetAsync(session, default));
        Assert.Equal("not_recorded", await DeliverAndWaitAsync(Expired("evt_e2_" + session, session)));

        Assert.Equal("not_recorded", await DeliverAndWaitAsync(CardRefundTests.Completed("evt_late_" + session, session, 500, "pi_" + Guid.NewGuid().ToString("N"))));
        Assert.Equal(0, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);
    }

    [Fact]
    public async Task Maintenance_forgets_old_checkouts_that_credited_nothing_and_keeps_paid_and_recent_ones()
    {
        var now = DateTimeOffset.UtcNow;
        var old = now.AddDays(-31);
        CardTopUp TopUp(DateTimeOffset at) => new()
        {
            SessionId = "cs_test_" + Guid.NewGuid().ToString("N"), Kind = CardTopUp.Payer, AccountId = "payer_sweep", Amount = Usd.Parse("5.00"), Currency = "usd", CreatedAt = at,
        };
        var unpaid = TopUp(old);
        var paid = TopUp(old.AddMinutes(1));
        var recent = TopUp(now.AddDays(-1));
        foreach (var topUp in new[] { unpaid, paid, recent })
        {
            Assert.True(await TopUps.AddAsync(topUp, default));
        }
        Assert.Equal(PostResult.Posted, await fixture.Ledger.PostAsync(LedgerEntry.Transfer(CardTopUpFulfilment.PaymentRefFor(paid.SessionId), "card-topup",
            Accounts.CardClearing, Accounts.Credits("payer_sweep"), paid.Amount, paid.SessionId), [], default));
        var passes = fixture.Gateway.Services.GetRequiredService<IPassStore>();
        var checkout = new PassCheckout
        {
            SessionId = "cs_test_" + Guid.NewGuid().ToString("N"), LinkId = "lnk_sweep", OrganisationId = "org_sweep", Offer = new PassOffer(Usd.Parse("1.00"), 1, null),
            PayerId = "payer_sweep", CreatedAt = old,
        };
        Assert.True(await passes.AddCheckoutAsync(checkout, default));

        Assert.Empty(await fixture.Gateway.Services.GetRequiredService<MaintenancePass>().ReconcileAsync(default));

        Assert.Null(await TopUps.GetAsync(unpaid.SessionId, default));
        Assert.Null(await passes.GetCheckoutAsync(checkout.SessionId, default));
        Assert.Equal(paid, await TopUps.GetAsync(paid.SessionId, default));
        Assert.Equal(recent, await TopUps.GetAsync(recent.SessionId, default));

        // Paid after all (a completion delayed past the retention): not credited, logged for a refund.
        Assert.Equal("not_recorded", await DeliverAndWaitAsync(CardRefundTests.Completed("evt_swept_" + unpaid.SessionId, unpaid.SessionId, 500, "pi_" + Guid.NewGuid().ToString("N"))));
        Assert.Equal(5_000_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits("payer_sweep"), default)).Micros);
    }

    [Fact]
    public async Task A_checkout_paid_between_the_sweeps_ledger_check_and_its_delete_is_kept_and_credited_once()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await CreditsFixture.NewPayerAsync(org, new { name = "Paid mid-sweep" });
        var topUp = new CardTopUp
        {
            SessionId = "cs_test_" + Guid.NewGuid().ToString("N"), Kind = CardTopUp.Payer, AccountId = payer.Id, Amount = Usd.Parse("5.00"), Currency = "usd",
            CreatedAt = DateTimeOffset.UtcNow.AddDays(-31), // a delayed payment method, succeeding just as the sweep reaches it
        };
        Assert.True(await TopUps.AddAsync(topUp, default));
        // The sweep's ledger check answers "not credited", and the payment lands right after it, before the delete.
        var ledger = new HookedLedger(fixture.Ledger)
        {
            AfterEntryExists = async key =>
            {
                if (key == CardTopUpFulfilment.PaymentRefFor(topUp.SessionId))
                {
                    Assert.Equal("credited", await DeliverAndWaitAsync(CardRefundTests.Completed("evt_race_" + topUp.SessionId, topUp.SessionId, 500,
                        "pi_" + Guid.NewGuid().ToString("N"))));
                }
            },
        };

        await Sweep(ledger, retentionDays: 30).RunAsync(default);

        Assert.Equal(topUp, await TopUps.GetAsync(topUp.SessionId, default)); // kept: a refund or dispute finds it
        Assert.Equal(5_000_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);
    }

    [Fact]
    public async Task The_retention_is_at_least_fourteen_days_whatever_is_configured()
    {
        var now = DateTimeOffset.UtcNow;
        CardTopUp TopUp(double daysAgo) => new()
        {
            SessionId = "cs_test_" + Guid.NewGuid().ToString("N"), Kind = CardTopUp.Payer, AccountId = "payer_floor", Amount = Usd.Parse("5.00"), Currency = "usd",
            CreatedAt = now.AddDays(-daysAgo),
        };
        var twoDays = TopUp(2);
        var thirteenDays = TopUp(13);
        var fifteenDays = TopUp(15);
        foreach (var topUp in new[] { twoDays, thirteenDays, fifteenDays })
        {
            Assert.True(await TopUps.AddAsync(topUp, default));
        }

        await Sweep(fixture.Ledger, retentionDays: 1).RunAsync(default);

        Assert.NotNull(await TopUps.GetAsync(twoDays.SessionId, default));
        Assert.NotNull(await TopUps.GetAsync(thirteenDays.SessionId, default));
        Assert.Null(await TopUps.GetAsync(fifteenDays.SessionId, default));
    }

    private Handler.Stripe.CardCheckoutSweep Sweep(ILedger ledger, int retentionDays) => new(TopUps, fixture.Gateway.Services.GetRequiredService<IPassStore>(), ledger,
        fixture.Gateway.Services.GetRequiredService<Handler.Stripe.StripeCheckoutClient>(),
        Microsoft.Extensions.Options.Options.Create(new Handler.Hosting.StripeOptions { CheckoutRetentionDays = retentionDays }), TimeProvider.System,
        Microsoft.Extensions.Logging.Abstractions.NullLogger<Handler.Stripe.CardCheckoutSweep>.Instance);

    private static string Expired(string eventId, string session) => JsonSerializer.Serialize(new
    {
        id = eventId, @object = "event", type = "checkout.session.expired",
        data = new { @object = new { id = session, @object = "checkout.session", status = "expired", payment_status = "unpaid", currency = "usd", amount_total = 500 } },
    });

    private ICardTopUpStore TopUps => fixture.Gateway.Services.GetRequiredService<ICardTopUpStore>();

    private IWebhookInbox Inbox => fixture.Gateway.Services.GetRequiredKeyedService<IWebhookInbox>(WebhookSources.Stripe);

    private async Task<string> DeliverAndWaitAsync(string payload)
    {
        var id = JsonDocument.Parse(payload).RootElement.GetProperty("id").GetString()!;
        var signature = await WebhookSignatureTests.OfficialHeaderAsync(payload, CreditsFixture.StripeWebhookSecret, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        using (var client = fixture.Gateway.Client())
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/stripe") { Content = new StringContent(payload, Encoding.UTF8, "application/json") })
        {
            request.Headers.TryAddWithoutValidation("Stripe-Signature", signature);
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        Assert.NotNull(await Inbox.PayloadAsync(id, default));
        await Poll.UntilAsync(async () => (await Inbox.PendingAsync(1000, default)).All(e => e.Id != id), TimeSpan.FromSeconds(60));
        return await CardRefundTests.OutcomeAsync(fixture.Gateway, id);
    }
}
