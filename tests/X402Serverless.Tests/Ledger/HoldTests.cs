using Microsoft.Extensions.Time.Testing;
using X402Serverless.AzureStorage;
using X402Serverless.Core.Credits;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;
using X402Serverless.Core.Ports;
using X402Serverless.Sqlite;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Ledger;

/// <summary>
/// What a call's hold guarantees on every ledger (ILedger's hold methods): set aside, the money is out of every other
/// spender's reach; captured, it is paid once; released, it is all back; and no balance goes below its floor, however
/// the calls interleave.
/// </summary>
public abstract class HoldContract
{
    protected const string Cap = "payer-month:p:2026-11";

    protected abstract Task<ILedger> CreateAsync(TimeProvider time);

    protected static (LedgerEntry, IReadOnlyList<CapCheck>) Hold(string id, string source, long micros, long capLimit = 1_000_000) =>
        (LedgerEntry.Transfer(id, "hold", source, Accounts.Hold(id), Usd.FromMicros(micros)), [new CapCheck(Cap, Usd.FromMicros(micros), Usd.FromMicros(capLimit))]);

    protected static LedgerEntry Capture(string id, long micros) =>
        LedgerEntry.Transfer($"{id}:capture", "capture", Accounts.Hold(id), Accounts.Earnings("o"), Usd.FromMicros(micros));

    protected static LedgerEntry Release(string id, string source, long micros) =>
        LedgerEntry.Transfer($"{id}:release", "release", Accounts.Hold(id), source, Usd.FromMicros(micros));

    protected static async Task<ILedger> FundedAsync(ILedger ledger, long micros)
    {
        Assert.Equal(PostResult.Posted, await ledger.PostAsync(LedgerEntry.Transfer("fund", "topup", Accounts.CardClearing, Accounts.Credits("p"), Usd.FromMicros(micros)), [], default));
        return ledger;
    }

    [Fact]
    public async Task Held_money_is_out_of_reach_until_captured_and_the_capture_pays_it_once()
    {
        var ledger = await FundedAsync(await CreateAsync(TimeProvider.System), 1_000);
        Assert.Equal((0, PostResult.Posted), await ledger.HoldFirstAsync([Hold("h1", Accounts.Credits("p"), 600)], default));
        Assert.Equal(400, (await ledger.BalanceAsync(Accounts.Credits("p"), default)).Micros);
        Assert.Equal(600, (await ledger.CapUsedAsync(Cap, default)).Micros);

        // Neither another hold nor a plain debit can take what is held.
        Assert.Equal(PostResult.Insufficient, (await ledger.HoldFirstAsync([Hold("h2", Accounts.Credits("p"), 401)], default)).Result);
        Assert.Equal(PostResult.Insufficient, await ledger.PostAsync(LedgerEntry.Transfer("spend1", "refund", Accounts.Credits("p"), Accounts.CardClearing, Usd.FromMicros(401)), [], default));
        Assert.Equal(PostResult.Posted, await ledger.PostAsync(LedgerEntry.Transfer("spend2", "refund", Accounts.Credits("p"), Accounts.CardClearing, Usd.FromMicros(300)), [], default));

        Assert.Equal(PostResult.Posted, await ledger.CaptureHoldAsync("h1", Capture("h1", 600), default));
        Assert.Equal(PostResult.Duplicate, await ledger.CaptureHoldAsync("h1", Capture("h1", 600), default));
        Assert.Equal(100, (await ledger.BalanceAsync(Accounts.Credits("p"), default)).Micros);
        Assert.Equal(600, (await ledger.BalanceAsync(Accounts.Earnings("o"), default)).Micros);
        Assert.Equal(600, (await ledger.CapUsedAsync(Cap, default)).Micros);
        // Where the money came from is on record once captured (the hold's entry, or the capture's own debit where a
        // store keeps holds unwritten): a keyed retry reads it there.
        var paidFrom = await ledger.EntryLegsAsync("h1", default) ?? await ledger.EntryLegsAsync("h1:capture", default);
        Assert.Equal((Accounts.Credits("p"), -600L), paidFrom!.Select(l => (l.Account, l.Amount.Micros)).Single(l => l.Micros < 0));
        await AssertConsistentAsync(ledger);
    }

    [Fact]
    public async Task A_released_hold_gives_back_its_money_and_the_counters_it_was_asked_to()
    {
        var ledger = await FundedAsync(await CreateAsync(TimeProvider.System), 1_000);
        var (entry, caps) = Hold("h1", Accounts.Credits("p"), 600, capLimit: 1_000);
        Assert.Equal(PostResult.Posted, (await ledger.HoldFirstAsync([(entry, caps)], default)).Result);
        await ledger.ReleaseHoldAsync("h1", Release("h1", Accounts.Credits("p"), 600), caps, default);
        Assert.Equal(1_000, (await ledger.BalanceAsync(Accounts.Credits("p"), default)).Micros);
        Assert.Equal(0, (await ledger.CapUsedAsync(Cap, default)).Micros);
        // All of it is spendable again, up to the cap.
        Assert.Equal(PostResult.Posted, (await ledger.HoldFirstAsync([Hold("h2", Accounts.Credits("p"), 1_000, capLimit: 1_000)], default)).Result);
        Assert.Equal(PostResult.CapExceeded, (await ledger.HoldFirstAsync([Hold("h3", Accounts.Credits("p"), 1, capLimit: 1_000)], default)).Result);
        Assert.Equal(PostResult.Posted, await ledger.CaptureHoldAsync("h2", Capture("h2", 1_000), default));
        await AssertConsistentAsync(ledger);
    }

    [Fact]
    public async Task A_release_after_the_capture_gives_back_nothing_and_a_calls_release_after_the_sweep_still_gives_back_its_counters()
    {
        var ledger = await FundedAsync(await CreateAsync(TimeProvider.System), 1_000);
        var (entry, caps) = Hold("h1", Accounts.Credits("p"), 600, capLimit: 1_000);
        Assert.Equal(PostResult.Posted, (await ledger.HoldFirstAsync([(entry, caps)], default)).Result);
        Assert.Equal(PostResult.Posted, await ledger.CaptureHoldAsync("h1", Capture("h1", 600), default));
        // A late release finds the hold paid out: neither money nor counters move.
        Assert.Equal(PostResult.Insufficient, await ledger.ReleaseHoldAsync("h1", Release("h1", Accounts.Credits("p"), 600), caps, default));
        Assert.Equal(400, (await ledger.BalanceAsync(Accounts.Credits("p"), default)).Micros);
        Assert.Equal(600, (await ledger.CapUsedAsync(Cap, default)).Micros);

        // A call outlives the stale sweep, which returns its money and keeps its counters; its answer withheld, the call's
        // own release then finds the money back already and gives back the counters.
        var (second, secondCaps) = Hold("h2", Accounts.Credits("p"), 300, capLimit: 1_000);
        Assert.Equal(PostResult.Posted, (await ledger.HoldFirstAsync([(second, secondCaps)], default)).Result);
        Assert.Equal(1, await new CreditCharges(ledger, null!, TimeProvider.System).ReleaseHeldBeforeAsync(DateTimeOffset.MaxValue, default));
        Assert.Equal(900, (await ledger.CapUsedAsync(Cap, default)).Micros);
        Assert.NotEqual(PostResult.Posted, await ledger.ReleaseHoldAsync("h2", Release("h2", Accounts.Credits("p"), 300), secondCaps, default));
        Assert.Equal(400, (await ledger.BalanceAsync(Accounts.Credits("p"), default)).Micros);
        Assert.Equal(600, (await ledger.CapUsedAsync(Cap, default)).Micros);
        await AssertConsistentAsync(ledger);
    }

    [Fact]
    public async Task The_first_source_that_covers_the_call_is_held()
    {
        var ledger = await FundedAsync(await CreateAsync(TimeProvider.System), 500);
        await ledger.PostAsync(LedgerEntry.Transfer("grant", "fund", Accounts.CardClearing, Accounts.Allowance("o", "p"), Usd.FromMicros(50)), [], default);
        Assert.Equal((1, PostResult.Posted), await ledger.HoldFirstAsync([Hold("h", Accounts.Allowance("o", "p"), 100), Hold("h", Accounts.Credits("p"), 100)], default));
        Assert.Equal(50, (await ledger.BalanceAsync(Accounts.Allowance("o", "p"), default)).Micros);
        Assert.Equal(400, (await ledger.BalanceAsync(Accounts.Credits("p"), default)).Micros);
        Assert.Equal(100, (await ledger.BalanceAsync(Accounts.Hold("h"), default)).Micros);
    }

    [Fact]
    public async Task A_credit_limit_is_the_floor_for_holds_too()
    {
        var ledger = await CreateAsync(TimeProvider.System);
        await ledger.SetFloorAsync(Accounts.Credits("p"), Usd.FromMicros(-500), default);
        Assert.Equal(PostResult.Posted, (await ledger.HoldFirstAsync([Hold("h1", Accounts.Credits("p"), 300)], default)).Result);
        Assert.Equal(PostResult.Insufficient, (await ledger.HoldFirstAsync([Hold("h2", Accounts.Credits("p"), 201)], default)).Result);
        Assert.Equal(PostResult.Posted, (await ledger.HoldFirstAsync([Hold("h3", Accounts.Credits("p"), 200)], default)).Result);
        Assert.Equal(PostResult.Posted, await ledger.CaptureHoldAsync("h1", Capture("h1", 300), default));
        Assert.Equal(PostResult.Posted, await ledger.CaptureHoldAsync("h3", Capture("h3", 200), default));
        Assert.Equal(-500, (await ledger.BalanceAsync(Accounts.Credits("p"), default)).Micros);
        await AssertConsistentAsync(ledger);
    }

    [Fact]
    public async Task A_credit_limit_lowered_while_a_call_holds_leaves_its_hold_capturable()
    {
        var ledger = await CreateAsync(TimeProvider.System);
        await ledger.SetFloorAsync(Accounts.Credits("p"), Usd.FromMicros(-500), default);
        Assert.Equal(PostResult.Posted, (await ledger.HoldFirstAsync([Hold("h1", Accounts.Credits("p"), 300)], default)).Result);
        // The limit is withdrawn mid-call: what was held under it is still paid, and nothing more can be held.
        await ledger.SetFloorAsync(Accounts.Credits("p"), Usd.Zero, default);
        Assert.Equal(PostResult.Insufficient, (await ledger.HoldFirstAsync([Hold("h2", Accounts.Credits("p"), 1)], default)).Result);
        Assert.Equal(PostResult.Posted, await ledger.CaptureHoldAsync("h1", Capture("h1", 300), default));
        Assert.Equal(-300, (await ledger.BalanceAsync(Accounts.Credits("p"), default)).Micros);
        Assert.Equal(300, (await ledger.BalanceAsync(Accounts.Earnings("o"), default)).Micros);
        await AssertConsistentAsync(ledger);
    }

    [Fact]
    public async Task A_credit_limit_raised_while_a_call_holds_leaves_its_hold_capturable()
    {
        var ledger = await CreateAsync(TimeProvider.System);
        await ledger.SetFloorAsync(Accounts.Credits("p"), Usd.FromMicros(-100), default);
        Assert.Equal(PostResult.Posted, (await ledger.HoldFirstAsync([Hold("h1", Accounts.Credits("p"), 100)], default)).Result);
        // The limit is raised mid-call, and another call spends the room it made before the first one ends.
        await ledger.SetFloorAsync(Accounts.Credits("p"), Usd.FromMicros(-200), default);
        Assert.Equal(PostResult.Posted, (await ledger.HoldFirstAsync([Hold("h2", Accounts.Credits("p"), 100)], default)).Result);
        Assert.Equal(PostResult.Posted, await ledger.CaptureHoldAsync("h2", Capture("h2", 100), default));
        Assert.Equal(PostResult.Posted, await ledger.CaptureHoldAsync("h1", Capture("h1", 100), default));
        Assert.Equal(-200, (await ledger.BalanceAsync(Accounts.Credits("p"), default)).Micros);
        await AssertConsistentAsync(ledger);
    }

    [Fact]
    public async Task A_call_outliving_the_stale_sweep_is_not_paid_and_its_counters_stay_counted()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var ledger = await FundedAsync(await CreateAsync(time), 1_000);
        var charges = new CreditCharges(ledger, null!, time);
        Assert.Equal(PostResult.Posted, (await ledger.HoldFirstAsync([Hold("h1", Accounts.Credits("p"), 400)], default)).Result);
        Assert.Equal(0, await charges.ReleaseStaleAsync(TimeSpan.FromMinutes(10), default)); // too young
        time.Advance(TimeSpan.FromMinutes(11));
        Assert.Equal(1, await charges.ReleaseStaleAsync(TimeSpan.FromMinutes(10), default));
        Assert.Equal(0, await charges.ReleaseStaleAsync(TimeSpan.FromMinutes(10), default)); // once
        Assert.Equal(1_000, (await ledger.BalanceAsync(Accounts.Credits("p"), default)).Micros);
        Assert.Equal(400, (await ledger.CapUsedAsync(Cap, default)).Micros); // the call may have run

        Assert.Equal(PostResult.Insufficient, await ledger.CaptureHoldAsync("h1", Capture("h1", 400), default));
        Assert.Equal(1_000, (await ledger.BalanceAsync(Accounts.Credits("p"), default)).Micros);
        Assert.Equal(0, (await ledger.BalanceAsync(Accounts.Earnings("o"), default)).Micros);
        await AssertConsistentAsync(ledger);
    }

    [Fact]
    public async Task Every_hold_placed_is_captured_while_others_end_around_it()
    {
        const int Calls = 120;
        var ledger = await FundedAsync(await CreateAsync(TimeProvider.System), 500);
        var captured = 0L;
        // Placements race captures and releases giving money back: a hold placed is always paid by its capture.
        await Task.WhenAll(Enumerable.Range(0, Calls).Select(i => Task.Run(async () =>
        {
            var (entry, caps) = Hold($"h{i}", Accounts.Credits("p"), 7);
            if ((await ledger.HoldFirstAsync([(entry, caps)], default)).Result != PostResult.Posted)
            {
                return;
            }
            if (i % 3 != 0)
            {
                Assert.Equal(PostResult.Posted, await ledger.CaptureHoldAsync($"h{i}", Capture($"h{i}", 7), default));
                Interlocked.Add(ref captured, 7);
            }
            else
            {
                await ledger.ReleaseHoldAsync($"h{i}", Release($"h{i}", Accounts.Credits("p"), 7), caps, default);
            }
        })));
        Assert.True(captured > 0);
        Assert.Equal(500 - captured, (await ledger.BalanceAsync(Accounts.Credits("p"), default)).Micros);
        Assert.Equal(captured, (await ledger.BalanceAsync(Accounts.Earnings("o"), default)).Micros);
        await AssertConsistentAsync(ledger);
    }

    [Fact]
    public async Task Concurrent_holds_hold_no_more_than_the_balance()
    {
        var ledger = await FundedAsync(await CreateAsync(TimeProvider.System), 30);
        var results = await Task.WhenAll(Enumerable.Range(0, 100).Select(i => Task.Run(() => ledger.HoldFirstAsync([Hold($"h{i}", Accounts.Credits("p"), 1)], default))));
        Assert.Equal(30, results.Count(r => r.Result == PostResult.Posted));
        Assert.Equal(0, (await ledger.BalanceAsync(Accounts.Credits("p"), default)).Micros);
    }

    protected static async Task AssertConsistentAsync(ILedger ledger)
    {
        Assert.Equal(0, (await ledger.TotalAsync(default)).Micros);
        Assert.All(await ledger.TrialBalanceAsync(default), row =>
        {
            Assert.Equal(row.PostedSum, row.Balance);
            Assert.True(Accounts.IsClearing(row.Account) || row.Account == Accounts.Credits("p") || !row.Balance.IsNegative, row.Account);
        });
    }
}

public sealed class TableHoldTests(AzuriteFixture azurite) : HoldContract, IClassFixture<AzuriteFixture>
{
    protected override async Task<ILedger> CreateAsync(TimeProvider time)
    {
        var ledger = new TableLedger(azurite.Tables, time, AzuriteFixture.UniqueTable("entries"), AzuriteFixture.UniqueTable("accounts"), AzuriteFixture.UniqueTable("caps"));
        await ledger.InitializeAsync(default);
        return ledger;
    }
}
