using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;
using X402Serverless.Core.Stripe;
using X402Serverless.Core.Webhooks;
using X402Serverless.Sqlite;

namespace X402Serverless.Tests.Stripe;

/// <summary>A Stripe event is recorded as what happened to it: "credited" only when the ledger posted the credit.</summary>
public sealed class StripeAmountTests
{
    [Theory]
    [InlineData("922337203685477581", "amount_out_of_range")] // × 10,000 micro-USD would overflow a long
    [InlineData("9223372036854775807", "amount_out_of_range")]
    [InlineData("100000000", "amount_out_of_range")] // one cent above Stripe's own ceiling
    [InlineData("1e30", "amount_out_of_range")]
    [InlineData("0", "amount_out_of_range")]
    [InlineData("-500", "amount_out_of_range")]
    [InlineData("\"500\"", "topup_amount_mismatch")]
    [InlineData("null", "topup_amount_mismatch")]
    public async Task Out_of_range_amounts_are_refused_with_a_reason_and_post_nothing(string amount, string outcome)
    {
        var (processor, ledger, inbox, topUps) = Create();
        var id = "evt_" + Guid.NewGuid().ToString("N");
        var session = await RecordAsync(topUps, Usd.Parse("5.00"));
        await inbox.TryAddAsync(id, "checkout.session.completed", Event(session, amount), DateTimeOffset.UnixEpoch, default);

        Assert.Equal(outcome, await processor.ProcessAsync(id, default));
        Assert.Equal(0, (await ledger.BalanceAsync(Accounts.Pool("org_amounts"), default)).Micros);
        Assert.Equal(0, (await ledger.TotalAsync(default)).Micros);
    }

    [Fact]
    public async Task The_largest_real_amount_is_credited_in_full()
    {
        var (processor, ledger, inbox, topUps) = Create();
        var session = await RecordAsync(topUps, Usd.FromCents(StripeEventProcessor.MaxCents));
        await inbox.TryAddAsync("evt_max", "checkout.session.completed", Event(session, StripeEventProcessor.MaxCents.ToString(System.Globalization.CultureInfo.InvariantCulture)), DateTimeOffset.UnixEpoch, default);

        Assert.Equal("credited", await processor.ProcessAsync("evt_max", default));
        Assert.Equal(StripeEventProcessor.MaxCents * 10_000, (await ledger.BalanceAsync(Accounts.Pool("org_amounts"), default)).Micros);
    }

    [Fact]
    public async Task An_event_with_an_unreadable_string_is_recorded_malformed()
    {
        var (processor, _, inbox, _) = Create();
        await inbox.TryAddAsync("evt_bad", "checkout.session.completed", Event("cs_bad", "500").Replace("\"usd\"", "\"\\ud800\"", StringComparison.Ordinal), DateTimeOffset.UnixEpoch, default);
        Assert.Equal("malformed", await processor.ProcessAsync("evt_bad", default));
    }

    private static (StripeEventProcessor Processor, SqliteLedger Ledger, SqliteWebhookInbox Inbox, SqliteCardTopUpStore TopUps) Create()
    {
        var database = new SqliteDatabase(Path.Combine(Path.GetTempPath(), "x402-stripe-" + Guid.NewGuid().ToString("N"), "x402.db"));
        var ledger = new SqliteLedger(database, TimeProvider.System);
        var inbox = new SqliteWebhookInbox(database, WebhookSources.Stripe);
        var topUps = new SqliteCardTopUpStore(database);
        var fulfilment = new CardTopUpFulfilment(topUps, ledger, new SqlitePayerStore(database));
        return (new StripeEventProcessor(inbox, TimeProvider.System, [fulfilment]), ledger, inbox, topUps);
    }

    private static async Task<string> RecordAsync(SqliteCardTopUpStore topUps, Usd amount)
    {
        var session = "cs_test_" + Guid.NewGuid().ToString("N");
        await topUps.AddAsync(new CardTopUp
        {
            SessionId = session, Kind = CardTopUp.Organisation, AccountId = "org_amounts", Amount = amount, Currency = "usd", CreatedAt = DateTimeOffset.UnixEpoch,
        }, default);
        return session;
    }

    private static string Event(string session, string amount) =>
        "{\"id\":\"evt\",\"type\":\"checkout.session.completed\",\"data\":{\"object\":{\"id\":\"" + session
        + "\",\"payment_status\":\"paid\",\"currency\":\"usd\",\"amount_total\":" + amount + ",\"metadata\":{\"organisation_id\":\"org_amounts\"}}}}";
}
