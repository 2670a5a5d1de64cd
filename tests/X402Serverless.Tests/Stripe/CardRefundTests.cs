using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;
using X402Serverless.Core.Webhooks;
using X402Serverless.Tests.Credits;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Stripe;

/// <summary>
/// Refunds and disputes of card top-ups, from Stripe's signed events (official stripe package): recognised only through
/// the PaymentIntent of a checkout the gateway opened and fulfilled; unspent credits are taken back, spent ones recorded
/// as owed, no balance goes below zero, and each cent is taken back once however often and concurrently events arrive.
/// </summary>
public sealed class CardRefundTests(CreditsFixture fixture) : IClassFixture<CreditsFixture>
{
    [Fact]
    public async Task A_full_refund_takes_the_unspent_top_up_back_once_and_a_refund_the_gateway_cannot_trace_takes_nothing()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await CreditsFixture.NewPayerAsync(org, new { name = "Refunded payer" });
        var (session, pi) = await ToppedUpAsync(payer.Key, "5.00", 500);

        Assert.Equal("reversed_refund", await DeliverAndWaitAsync(Refunded("evt_r_" + pi, pi, 500, 500)));
        Assert.Equal(0, await BalanceAsync(Accounts.Credits(payer.Id)));
        Assert.Equal(0, await BalanceAsync(Accounts.Owed(Accounts.Credits(payer.Id))));
        // Redelivered, or a second event with the same total: nothing more.
        Assert.Equal("reversal_duplicate", await DeliverAndWaitAsync(Refunded("evt_r2_" + pi, pi, 500, 500)));
        Assert.Equal(0, (await fixture.Ledger.TotalAsync(default)).Micros);

        // Naming the payer in metadata, or another payment, or the session itself instead of its PaymentIntent: not ours.
        var other = await CreditsFixture.NewPayerAsync(org, new { name = "Untouched" });
        await fixture.FundAsync(Accounts.Credits(other.Id), 3_000_000);
        var stranger = "pi_" + Guid.NewGuid().ToString("N");
        Assert.Equal("not_recorded", await DeliverAndWaitAsync(Refunded("evt_x_" + stranger, stranger, 300, 300, metadata: new { payer_id = other.Id })));
        Assert.Equal("not_recorded", await DeliverAndWaitAsync(Refunded("evt_y_" + stranger, session, 300, 300)));
        Assert.Equal(3_000_000, await BalanceAsync(Accounts.Credits(other.Id)));
    }

    [Fact]
    public async Task Partial_refunds_take_back_what_is_unspent_and_record_the_spent_rest_as_owed_never_below_zero()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await CreditsFixture.NewPayerAsync(org, new { name = "Spender" });
        var (_, pi) = await ToppedUpAsync(payer.Key, "10.00", 1000);
        var credits = Accounts.Credits(payer.Id);
        // Spent 7.00 of it since.
        Assert.Equal(PostResult.Posted, await fixture.Ledger.PostAsync(
            LedgerEntry.Transfer("spend_" + pi, "capture", credits, Accounts.Earnings("org_spent_at"), Usd.FromMicros(7_000_000)), [], default));

        // 2.00 refunded: taken from the 3.00 left.
        Assert.Equal("reversed_refund", await DeliverAndWaitAsync(Refunded("evt_p1_" + pi, pi, 1000, 200)));
        Assert.Equal(1_000_000, await BalanceAsync(credits));
        // The rest refunded (Stripe's running total is 10.00): 8.00 more, of which 1.00 is there and 7.00 is owed.
        Assert.Equal("reversed_refund", await DeliverAndWaitAsync(Refunded("evt_p2_" + pi, pi, 1000, 1000)));
        Assert.Equal(0, await BalanceAsync(credits));
        Assert.Equal(-7_000_000, await BalanceAsync(Accounts.Owed(credits)));
        // An older event arriving late (the 2.00 total) changes nothing.
        Assert.Equal("reversal_duplicate", await DeliverAndWaitAsync(Refunded("evt_p0_" + pi, pi, 1000, 200)));
        Assert.Equal(0, await BalanceAsync(credits));
        Assert.Equal(0, (await fixture.Ledger.TotalAsync(default)).Micros);
        Assert.DoesNotContain(await fixture.Ledger.TrialBalanceAsync(default), a => !Accounts.IsClearing(a.Account) && a.Balance.Micros < 0);
    }

    [Fact]
    public async Task The_same_refund_fifty_times_at_once_and_other_totals_concurrently_take_back_exactly_the_highest_total()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await CreditsFixture.NewPayerAsync(org, new { name = "Concurrent refunds" });
        var (_, pi) = await ToppedUpAsync(payer.Key, "6.00", 600);
        var same = Refunded("evt_c_" + pi, pi, 600, 400);
        var signature = await SignAsync(same);

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Task.Run(() => PostAsync(same, signature))));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        foreach (var response in responses)
        {
            response.Dispose();
        }
        // Other totals, stored and applied concurrently with the worker and with each other, including the same event again.
        var ids = Enumerable.Range(1, 10).Select(i => $"evt_c{i}_{pi}").ToList();
        for (var i = 0; i < ids.Count; i++)
        {
            await Inbox.TryAddAsync(ids[i], "charge.refunded", Refunded(ids[i], pi, 600, 100 + (i % 5) * 100), DateTimeOffset.UtcNow, default);
        }
        var outcomes = await Task.WhenAll(ids.Concat(Enumerable.Repeat("evt_c_" + pi, 10)).Select(id => Task.Run(() => Processor.ProcessAsync(id, default))));
        Assert.All(outcomes, o => Assert.Contains(o, new[] { "reversed_refund", "reversal_duplicate" }));
        await WaitProcessedAsync("evt_c_" + pi);

        // The highest total (5.00) is what was taken back, in one entry per step, never more.
        Assert.Equal(1_000_000, await BalanceAsync(Accounts.Credits(payer.Id)));
        Assert.Equal(0, (await fixture.Ledger.TotalAsync(default)).Micros);
        var steps = (await fixture.Ledger.PostingsAsync(Accounts.Credits(payer.Id), 100, default)).Where(p => p.Kind == "card-refunded").ToList();
        Assert.Equal(-5_000_000, steps.Sum(p => p.Amount.Micros));
    }

    [Fact]
    public async Task A_partial_refund_then_a_dispute_of_the_rest_take_back_both_and_never_more_than_was_paid()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await CreditsFixture.NewPayerAsync(org, new { name = "Refunded then disputed" });
        var (_, pi) = await ToppedUpAsync(payer.Key, "10.00", 1000);
        var credits = Accounts.Credits(payer.Id);

        // 4.00 refunded, then the other 6.00 disputed: Stripe paid out all 10.00, so all of it comes back.
        Assert.Equal("reversed_refund", await DeliverAndWaitAsync(Refunded("evt_rd1_" + pi, pi, 1000, 400)));
        Assert.Equal(6_000_000, await BalanceAsync(credits));
        Assert.Equal("reversed_dispute", await DeliverAndWaitAsync(Dispute("evt_rd2_" + pi, pi, 600, "dispute.created", "needs_response")));
        Assert.Equal(0, await BalanceAsync(credits));
        Assert.Equal(0, await BalanceAsync(Accounts.Owed(credits)));
        // The dispute lost, and the refund reported again: nothing more (at most what was paid).
        Assert.Equal("reversal_duplicate", await DeliverAndWaitAsync(Dispute("evt_rd3_" + pi, pi, 600, "dispute.closed", "lost")));
        Assert.Equal("reversal_duplicate", await DeliverAndWaitAsync(Refunded("evt_rd4_" + pi, pi, 1000, 400)));
        Assert.Equal(0, await BalanceAsync(Accounts.Owed(credits)));
        Assert.Equal(0, (await fixture.Ledger.TotalAsync(default)).Micros);

        // The other order on another top-up: a 3.00 dispute first, then a 5.00 refund, 8.00 in all.
        var (_, second) = await ToppedUpAsync(payer.Key, "10.00", 1000);
        Assert.Equal("reversed_dispute", await DeliverAndWaitAsync(Dispute("evt_rd5_" + second, second, 300, "dispute.created", "needs_response")));
        Assert.Equal("reversed_refund", await DeliverAndWaitAsync(Refunded("evt_rd6_" + second, second, 1000, 500)));
        Assert.Equal(2_000_000, await BalanceAsync(credits));
    }

    [Fact]
    public async Task A_step_whose_process_died_after_claiming_it_is_finished_by_the_next_event_for_the_payment()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await CreditsFixture.NewPayerAsync(org, new { name = "Crash mid-refund" });
        var (_, pi) = await ToppedUpAsync(payer.Key, "4.00", 400);
        // What a process that moved the total to 3.00 and died before posting leaves.
        var charges = fixture.Gateway.Services.GetRequiredService<Core.Ports.ICardChargeStore>();
        Assert.True(await charges.AdvanceAsync(pi, 0, 300, "refunded", 300, 0, default));
        Assert.Equal(4_000_000, await BalanceAsync(Accounts.Credits(payer.Id)));

        // Stripe's retry of that event (same total): the claimed step is posted now, once.
        Assert.Equal("reversal_duplicate", await DeliverAndWaitAsync(Refunded("evt_cr_" + pi, pi, 400, 300)));
        Assert.Equal(1_000_000, await BalanceAsync(Accounts.Credits(payer.Id)));
        Assert.Equal("reversal_duplicate", await DeliverAndWaitAsync(Refunded("evt_cr2_" + pi, pi, 400, 300)));
        Assert.Equal(1_000_000, await BalanceAsync(Accounts.Credits(payer.Id)));
        Assert.Equal(0, (await fixture.Ledger.TotalAsync(default)).Micros);
    }

    [Fact]
    public async Task A_dispute_takes_the_pool_top_up_back_when_opened_a_won_one_is_only_recorded_and_the_organisation_is_told()
    {
        using var org = await fixture.NewOrganisationAsync();
        var organisationId = (await org.GetFromJsonAsync<JsonElement>("/api/organisation")).GetProperty("id").GetString()!;
        await using var receiver = await Webhooks.WebhookReceiver.StartAsync();
        using (var endpoint = await org.PostAsJsonAsync("/api/webhooks", new { url = receiver.Url("refunds"), events = new[] { "charge.refunded" } }))
        {
            Assert.True(endpoint.IsSuccessStatusCode, await endpoint.Content.ReadAsStringAsync());
        }
        using var opened = await org.PostAsJsonAsync("/api/organisation/topups/card", new { amount = "40.00" });
        var session = (await opened.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("sessionId").GetString()!;
        var pi = "pi_" + Guid.NewGuid().ToString("N");
        await DeliverAndWaitAsync(Completed("evt_k_" + session, session, 4000, pi));
        Assert.Equal(40_000_000, await BalanceAsync(Accounts.Pool(organisationId)));
        // 15.00 of the pool spent.
        Assert.Equal(PostResult.Posted, await fixture.Ledger.PostAsync(
            LedgerEntry.Transfer("grant_" + pi, "allowance", Accounts.Pool(organisationId), Accounts.Allowance(organisationId, "payer_x"), Usd.FromMicros(15_000_000)), [], default));

        Assert.Equal("reversed_dispute", await DeliverAndWaitAsync(Dispute("evt_d1_" + pi, pi, 4000, "dispute.created", "needs_response")));
        Assert.Equal(0, await BalanceAsync(Accounts.Pool(organisationId)));
        Assert.Equal(-15_000_000, await BalanceAsync(Accounts.Owed(Accounts.Pool(organisationId))));
        Assert.Equal("dispute_won", await DeliverAndWaitAsync(Dispute("evt_d2_" + pi, pi, 4000, "dispute.closed", "won")));
        Assert.Equal("reversal_duplicate", await DeliverAndWaitAsync(Dispute("evt_d3_" + pi, pi, 4000, "dispute.closed", "lost")));
        Assert.Equal(0, await BalanceAsync(Accounts.Pool(organisationId)));
        Assert.Equal(0, (await fixture.Ledger.TotalAsync(default)).Micros);

        var sent = await Poll.UntilAsync(() => Task.FromResult(receiver.To("refunds") is [var first, ..] ? first : null), TimeSpan.FromSeconds(60));
        var data = JsonDocument.Parse(sent.Body).RootElement;
        Assert.Equal("charge.refunded", data.GetProperty("type").GetString());
        var object_ = data.GetProperty("data").GetProperty("object");
        Assert.Equal(("disputed", "topup", session, pi), (object_.GetProperty("reason").GetString(), object_.GetProperty("purchase").GetString(),
            object_.GetProperty("sessionId").GetString(), object_.GetProperty("paymentIntent").GetString()));
        Assert.Equal(("40.00", "25.00", "15.00"), (object_.GetProperty("amountUsd").GetString(), object_.GetProperty("takenBackUsd").GetString(),
            object_.GetProperty("owedUsd").GetString()));
        Assert.Single(receiver.To("refunds"));
    }

    internal static string Completed(string eventId, string session, long cents, string paymentIntent) => JsonSerializer.Serialize(new
    {
        id = eventId, @object = "event", type = "checkout.session.completed",
        data = new { @object = new { id = session, @object = "checkout.session", payment_status = "paid", currency = "usd", amount_total = cents, payment_intent = paymentIntent } },
    });

    internal static string Refunded(string eventId, string paymentIntent, long amount, long refunded, object? metadata = null) => JsonSerializer.Serialize(new
    {
        id = eventId, @object = "event", type = "charge.refunded",
        data = new
        {
            @object = new
            {
                id = "ch_" + paymentIntent[3..], @object = "charge", amount, amount_refunded = refunded, currency = "usd", refunded = refunded == amount,
                payment_intent = paymentIntent, metadata = metadata ?? new { },
            },
        },
    });

    internal static string Dispute(string eventId, string paymentIntent, long amount, string type, string status) => JsonSerializer.Serialize(new
    {
        id = eventId, @object = "event", type = "charge." + type,
        data = new { @object = new { id = "dp_" + paymentIntent[3..], @object = "dispute", amount, currency = "usd", charge = "ch_" + paymentIntent[3..], payment_intent = paymentIntent, status } },
    });

    /// <summary>A card top-up of the payer, opened through the API and paid (its completed event carries the PaymentIntent).</summary>
    private async Task<(string Session, string PaymentIntent)> ToppedUpAsync(string payerKey, string amount, long cents)
    {
        using var me = fixture.Gateway.Client(payerKey);
        using var response = await me.PostAsJsonAsync("/api/me/topups/card", new { amount });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var session = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("sessionId").GetString()!;
        var pi = "pi_" + Guid.NewGuid().ToString("N");
        await DeliverAndWaitAsync(Completed("evt_paid_" + session, session, cents, pi));
        return (session, pi);
    }

    private async Task<long> BalanceAsync(string account) => (await fixture.Ledger.BalanceAsync(account, default)).Micros;

    /// <summary>Delivers a signed event, waits until the worker applied it and answers the outcome recorded for it.</summary>
    private async Task<string> DeliverAndWaitAsync(string payload)
    {
        var id = JsonDocument.Parse(payload).RootElement.GetProperty("id").GetString()!;
        using (var response = await PostAsync(payload, await SignAsync(payload)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        await WaitProcessedAsync(id);
        return await OutcomeAsync(fixture.Gateway, id);
    }

    /// <summary>The outcome the worker recorded for a processed Stripe event (read from the SQLite inbox's row).</summary>
    internal static async Task<string> OutcomeAsync(GatewayHost gateway, string eventId)
    {
        await using var connection = gateway.Services.GetRequiredService<X402Serverless.Sqlite.SqliteDatabase>().Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT outcome FROM stripe_events WHERE id = $id;";
        command.Parameters.AddWithValue("$id", eventId);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    private static Task<string> SignAsync(string payload) =>
        WebhookSignatureTests.OfficialHeaderAsync(payload, CreditsFixture.StripeWebhookSecret, DateTimeOffset.UtcNow.ToUnixTimeSeconds());

    private async Task<HttpResponseMessage> PostAsync(string payload, string signature)
    {
        using var client = fixture.Gateway.Client();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/stripe") { Content = new StringContent(payload, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Stripe-Signature", signature);
        return await client.SendAsync(request);
    }

    private Core.Ports.IWebhookInbox Inbox => fixture.Gateway.Services.GetRequiredKeyedService<Core.Ports.IWebhookInbox>(WebhookSources.Stripe);

    private InboxProcessor Processor => fixture.Gateway.Services.GetServices<InboxProcessor>().Single(p => p.Source == WebhookSources.Stripe);

    private async Task WaitProcessedAsync(string eventId)
    {
        Assert.NotNull(await Inbox.PayloadAsync(eventId, default));
        await Poll.UntilAsync(async () => (await Inbox.PendingAsync(1000, default)).All(e => e.Id != eventId), TimeSpan.FromSeconds(60));
    }
}
