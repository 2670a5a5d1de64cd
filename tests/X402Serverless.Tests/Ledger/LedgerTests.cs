using Microsoft.Extensions.Time.Testing;
using X402Serverless.AzureStorage;
using X402Serverless.AzureStorage.Tables;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Ports;
using X402Serverless.Sqlite;
using X402Serverless.Tests.Support;
using X402Serverless.Core.Money;

namespace X402Serverless.Tests.Ledger;

/// <summary>What every ILedger adapter must guarantee, run against SQLite and Table Storage (Azurite).</summary>
public abstract class LedgerContract
{
    private ILedger? _current;

    protected abstract Task<ILedger> CreateAsync(TimeProvider time);

    private ILedger _ledger => _current ??= CreateAsync(new FakeTimeProvider(DateTimeOffset.UnixEpoch)).GetAwaiter().GetResult();

    [Fact]
    public async Task A_top_up_credits_the_payer_and_mirrors_it_in_clearing()
    {
        Assert.Equal(PostResult.Posted, await _ledger.PostAsync(LedgerEntry.Transfer("t1", "topup", Accounts.CardClearing, Accounts.Credits("p1"), Usd.FromMicros(5_000_000)), [], default));
        Assert.Equal(5_000_000, (await _ledger.BalanceAsync(Accounts.Credits("p1"), default)).Micros);
        Assert.Equal(-5_000_000, (await _ledger.BalanceAsync(Accounts.CardClearing, default)).Micros);
        Assert.Equal(0, (await _ledger.TotalAsync(default)).Micros);
    }

    [Fact]
    public async Task The_same_key_posts_once()
    {
        var entry = LedgerEntry.Transfer("stripe:cs_1", "topup", Accounts.CardClearing, Accounts.Credits("p1"), Usd.FromMicros(1_000));
        Assert.Equal(PostResult.Posted, await _ledger.PostAsync(entry, [], default));
        Assert.Equal(PostResult.Duplicate, await _ledger.PostAsync(entry, [], default));
        Assert.Equal(1_000, (await _ledger.BalanceAsync(Accounts.Credits("p1"), default)).Micros);
    }

    [Fact]
    public async Task A_debit_past_the_floor_changes_nothing()
    {
        await _ledger.PostAsync(LedgerEntry.Transfer("t", "topup", Accounts.CardClearing, Accounts.Credits("p1"), Usd.FromMicros(100)), [], default);
        Assert.Equal(PostResult.Insufficient, await _ledger.PostAsync(LedgerEntry.Transfer("h", "hold", Accounts.Credits("p1"), Accounts.Hold("h"), Usd.FromMicros(101)), [], default));
        Assert.Equal(100, (await _ledger.BalanceAsync(Accounts.Credits("p1"), default)).Micros);
        Assert.False(await _ledger.EntryExistsAsync("h", default));
    }

    [Fact]
    public async Task A_credit_limit_lets_a_trusted_payer_go_negative_down_to_it()
    {
        await _ledger.SetFloorAsync(Accounts.Credits("p1"), Usd.FromMicros(-500), default);
        Assert.Equal(PostResult.Posted, await _ledger.PostAsync(LedgerEntry.Transfer("h1", "hold", Accounts.Credits("p1"), Accounts.Hold("h1"), Usd.FromMicros(500)), [], default));
        Assert.Equal(PostResult.Insufficient, await _ledger.PostAsync(LedgerEntry.Transfer("h2", "hold", Accounts.Credits("p1"), Accounts.Hold("h2"), Usd.FromMicros(1)), [], default));
        Assert.Equal(-500, (await _ledger.BalanceAsync(Accounts.Credits("p1"), default)).Micros);
    }

    [Fact]
    public async Task A_cap_is_checked_and_moved_with_the_entry()
    {
        await _ledger.PostAsync(LedgerEntry.Transfer("t", "topup", Accounts.CardClearing, Accounts.Credits("p1"), Usd.FromMicros(1_000)), [], default);
        CapCheck Cap(long amount) => new("member-month:o:p1:2026-11", Usd.FromMicros(amount), Usd.FromMicros(300));
        Assert.Equal(PostResult.Posted, await _ledger.PostAsync(LedgerEntry.Transfer("h1", "hold", Accounts.Credits("p1"), Accounts.Hold("h1"), Usd.FromMicros(200)), [Cap(200)], default));
        Assert.Equal(PostResult.CapExceeded, await _ledger.PostAsync(LedgerEntry.Transfer("h2", "hold", Accounts.Credits("p1"), Accounts.Hold("h2"), Usd.FromMicros(200)), [Cap(200)], default));
        Assert.Equal(800, (await _ledger.BalanceAsync(Accounts.Credits("p1"), default)).Micros);
        await _ledger.UndoCapsAsync([Cap(200)], default);
        Assert.Equal(0, (await _ledger.CapUsedAsync("member-month:o:p1:2026-11", default)).Micros);
    }

    [Fact]
    public async Task Post_first_takes_the_first_source_that_covers_the_amount()
    {
        await _ledger.PostAsync(LedgerEntry.Transfer("t1", "fund", Accounts.CardClearing, Accounts.Allowance("o", "p"), Usd.FromMicros(50)), [], default);
        await _ledger.PostAsync(LedgerEntry.Transfer("t2", "topup", Accounts.CardClearing, Accounts.Credits("p"), Usd.FromMicros(500)), [], default);
        var (index, result) = await _ledger.PostFirstAsync(
        [
            (LedgerEntry.Transfer("h", "hold", Accounts.Allowance("o", "p"), Accounts.Hold("h"), Usd.FromMicros(100)), []),
            (LedgerEntry.Transfer("h", "hold", Accounts.Credits("p"), Accounts.Hold("h"), Usd.FromMicros(100)), []),
        ], default);
        Assert.Equal((1, PostResult.Posted), (index, result));
        Assert.Equal(50, (await _ledger.BalanceAsync(Accounts.Allowance("o", "p"), default)).Micros);
        Assert.Equal(400, (await _ledger.BalanceAsync(Accounts.Credits("p"), default)).Micros);
    }

    [Fact]
    public async Task Holds_left_by_a_dead_request_are_released_once_they_are_stale()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var ledger = await CreateAsync(time);
        await ledger.PostAsync(LedgerEntry.Transfer("t", "topup", Accounts.CardClearing, Accounts.Credits("p"), Usd.FromMicros(1_000)), [], default);
        await ledger.PostAsync(LedgerEntry.Transfer("hold_dead", "hold", Accounts.Credits("p"), Accounts.Hold("hold_dead"), Usd.FromMicros(400)), [], default);
        await ledger.PostAsync(LedgerEntry.Transfer("hold_done", "hold", Accounts.Credits("p"), Accounts.Hold("hold_done"), Usd.FromMicros(100)), [], default);
        await ledger.PostAsync(LedgerEntry.Transfer("hold_done:capture", "capture", Accounts.Hold("hold_done"), Accounts.Earnings("o"), Usd.FromMicros(100)), [], default);
        var charges = new X402Serverless.Core.Credits.CreditCharges(ledger, null!, time);

        Assert.Equal(0, await charges.ReleaseStaleAsync(TimeSpan.FromMinutes(10), default)); // too young
        time.Advance(TimeSpan.FromMinutes(11));
        Assert.Equal(1, await charges.ReleaseStaleAsync(TimeSpan.FromMinutes(10), default));
        Assert.Equal(0, await charges.ReleaseStaleAsync(TimeSpan.FromMinutes(10), default)); // once
        Assert.Equal(900, (await ledger.BalanceAsync(Accounts.Credits("p"), default)).Micros);
        Assert.Equal(0, (await ledger.BalanceAsync(Accounts.Hold("hold_dead"), default)).Micros);
    }

    [Fact]
    public async Task A_stale_hold_that_cannot_be_released_now_does_not_keep_the_others_held()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var ledger = await CreateAsync(time);
        await ledger.PostAsync(LedgerEntry.Transfer("t", "topup", Accounts.CardClearing, Accounts.Credits("p"), Usd.FromMicros(1_000)), [], default);
        foreach (var id in new[] { "hold_a", "hold_b", "hold_c" })
        {
            await ledger.PostAsync(LedgerEntry.Transfer(id, "hold", Accounts.Credits("p"), Accounts.Hold(id), Usd.FromMicros(100)), [], default);
        }
        // One hold's release is busy now (its own call still posting it), wherever it comes in the sweep's order.
        var busy = "hold_b";
        var hooked = new HookedLedger(ledger)
        {
            BeforeReleaseHold = id => id == busy ? throw new InvalidOperationException("busy") : Task.CompletedTask,
        };
        var charges = new X402Serverless.Core.Credits.CreditCharges(hooked, null!, time);
        time.Advance(TimeSpan.FromMinutes(11));

        var failed = await Assert.ThrowsAsync<AggregateException>(() => charges.ReleaseStaleAsync(TimeSpan.FromMinutes(10), default));
        Assert.Single(failed.InnerExceptions);
        Assert.Equal(900, (await ledger.BalanceAsync(Accounts.Credits("p"), default)).Micros); // hold_a and hold_c went back
        Assert.Equal(100, (await ledger.BalanceAsync(Accounts.Hold("hold_b"), default)).Micros);

        busy = "";
        Assert.Equal(1, await charges.ReleaseStaleAsync(TimeSpan.FromMinutes(10), default)); // the next pass
        Assert.Equal(1_000, (await ledger.BalanceAsync(Accounts.Credits("p"), default)).Micros);
    }

    [Fact]
    public async Task A_posted_entry_reads_back_its_legs_and_a_refused_or_unknown_one_none()
    {
        await _ledger.PostAsync(LedgerEntry.Transfer("fund", "topup", Accounts.CardClearing, Accounts.Allowance("o1", "p1"), Usd.FromMicros(300)), [], default);
        Assert.Equal(PostResult.Posted, await _ledger.PostAsync(LedgerEntry.Transfer("hold_a", "hold", Accounts.Allowance("o1", "p1"), Accounts.Hold("hold_a"), Usd.FromMicros(200)), [], default));
        Assert.Equal(PostResult.Insufficient, await _ledger.PostAsync(LedgerEntry.Transfer("hold_b", "hold", Accounts.Credits("p1"), Accounts.Hold("hold_b"), Usd.FromMicros(200)), [], default));

        var legs = await _ledger.EntryLegsAsync("hold_a", default);
        Assert.Equal(
            new[] { (Accounts.Allowance("o1", "p1"), -200L), (Accounts.Hold("hold_a"), 200L) },
            legs!.Select(l => (l.Account, l.Amount.Micros)).OrderBy(l => l.Item2).ToArray());
        Assert.Null(await _ledger.EntryLegsAsync("hold_b", default));
        Assert.Null(await _ledger.EntryLegsAsync("never", default));
    }

    [Fact]
    public async Task Unbalanced_entries_are_refused_before_touching_the_store() =>
        await Assert.ThrowsAsync<ArgumentException>(() => _ledger.PostAsync(
            new LedgerEntry("x", "bad", [new Leg("a", Usd.FromMicros(5)), new Leg("b", Usd.FromMicros(-4))]), [], default));

}

public sealed class SqliteLedgerTests : LedgerContract
{
    protected override Task<ILedger> CreateAsync(TimeProvider time) =>
        Task.FromResult<ILedger>(new SqliteLedger(new SqliteDatabase(Path.Combine(Path.GetTempPath(), "x402-ledger-" + Guid.NewGuid().ToString("N"), "x402.db")), time));
}

public sealed class TableLedgerTests(AzuriteFixture azurite) : LedgerContract, IClassFixture<AzuriteFixture>
{
    protected override async Task<ILedger> CreateAsync(TimeProvider time)
    {
        var ledger = new TableLedger(azurite.Tables, time, AzuriteFixture.UniqueTable("entries"), AzuriteFixture.UniqueTable("accounts"), AzuriteFixture.UniqueTable("caps"));
        await ledger.InitializeAsync(default);
        return ledger;
    }

    /// <summary>A ledger on fresh tables with a clock of its own, the payer's credits funded with 1,000; its journal and counter tables.</summary>
    private async Task<(TableLedger Ledger, FakeTimeProvider Time, Azure.Data.Tables.TableClient Journals, Azure.Data.Tables.TableClient Counters)> FundedAsync()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var (entriesTable, capsTable) = (AzuriteFixture.UniqueTable("entries"), AzuriteFixture.UniqueTable("caps"));
        var ledger = new TableLedger(azurite.Tables, time, entriesTable, AzuriteFixture.UniqueTable("accounts"), capsTable);
        await ledger.InitializeAsync(default);
        Assert.Equal(PostResult.Posted, await ledger.PostAsync(LedgerEntry.Transfer("fund", "topup", Accounts.CardClearing, Accounts.Credits("p"), Usd.FromMicros(1_000)), [], default));
        return (ledger, time, azurite.Tables.GetTableClient(entriesTable), azurite.Tables.GetTableClient(capsTable));
    }

    [Fact]
    public async Task An_entry_left_half_applied_by_a_crash_is_finished_by_recovery()
    {
        var (ledger, time, journals, counters) = await FundedAsync();
        // Simulate a writer that journaled an entry and died before applying it.
        await journals.AddEntityAsync(new Azure.Data.Tables.TableEntity("crashed", "entry")
        {
            ["Kind"] = "hold", ["State"] = "pending",
            ["Legs"] = """[["credits:p","-400"],["hold:crashed","400"]]""", ["Caps"] = "[]", ["CreatedAt"] = DateTimeOffset.UnixEpoch.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
        });
        time.Advance(TimeSpan.FromMinutes(5));

        Assert.Equal(1, await ledger.RecoverAsync(TimeSpan.FromMinutes(1), default));
        Assert.Equal(600, (await ledger.BalanceAsync(Accounts.Credits("p"), default)).Micros);
        Assert.Equal(400, (await ledger.BalanceAsync(Accounts.Hold("crashed"), default)).Micros);
        Assert.Equal(0, (await ledger.TotalAsync(default)).Micros);
        Assert.Equal(0, await ledger.RecoverAsync(TimeSpan.FromMinutes(1), default)); // finished: nothing pending now
    }

    [Fact]
    public async Task A_hold_whose_legs_all_landed_before_a_crash_is_finished_by_recovery_without_crediting_it_twice()
    {
        var (ledger, time, journals, counters) = await FundedAsync();
        Assert.Equal(PostResult.Posted, await ledger.PostAsync(LedgerEntry.Transfer("h1", "hold", Accounts.Credits("p"), Accounts.Hold("h1"), Usd.FromMicros(400)), [], default));
        // The writer died after both legs, before marking the entry posted: the hold's account, created with its leg, is there.
        var journal = (await journals.GetEntityAsync<Azure.Data.Tables.TableEntity>("h1", "entry")).Value;
        journal["State"] = "pending";
        await journals.UpdateEntityAsync(journal, Azure.ETag.All, Azure.Data.Tables.TableUpdateMode.Replace);
        time.Advance(TimeSpan.FromMinutes(5));

        Assert.Equal(1, await ledger.RecoverAsync(TimeSpan.FromMinutes(1), default));
        Assert.Equal(600, (await ledger.BalanceAsync(Accounts.Credits("p"), default)).Micros);
        Assert.Equal(400, (await ledger.BalanceAsync(Accounts.Hold("h1"), default)).Micros);
        Assert.Single(await ledger.PostingsAsync(Accounts.Hold("h1"), 10, default));
        Assert.All(await ledger.TrialBalanceAsync(default), a => Assert.Equal(a.PostedSum, a.Balance));
        Assert.Equal(0, await ledger.RecoverAsync(TimeSpan.FromMinutes(1), default));
    }

    [Fact]
    public async Task An_entry_refused_on_replay_takes_back_what_an_earlier_cut_short_take_back_left()
    {
        var (ledger, time, journals, counters) = await FundedAsync();
        // Cap "day" is full by another call; entry "e" (an earlier version's, still pending) was refused once, and its
        // take-back died after giving "day" back, before "month": "month" still counts e's 10, with its marker.
        Assert.Equal(PostResult.Posted, await ledger.PostAsync(LedgerEntry.Transfer("fill", "spend", Accounts.Credits("p"), Accounts.Earnings("o"), Usd.FromMicros(10)),
            [new CapCheck("day", Usd.FromMicros(10), Usd.FromMicros(10))], default));
        await counters.AddEntityAsync(new Azure.Data.Tables.TableEntity("month", "counter") { ["Used"] = 10L });
        await counters.AddEntityAsync(new Azure.Data.Tables.TableEntity("month", "a:e") { ["Amount"] = 10L });
        await journals.AddEntityAsync(new Azure.Data.Tables.TableEntity("e", "entry")
        {
            ["Kind"] = "spend", ["State"] = "pending",
            ["Legs"] = """[["credits:p","-10"],["earnings:o","10"]]""", ["Caps"] = """[["day","10","10"],["month","10","1000"]]""",
            ["CreatedAt"] = DateTimeOffset.UnixEpoch.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
        });
        time.Advance(TimeSpan.FromMinutes(5));

        Assert.Equal(1, await ledger.RecoverAsync(TimeSpan.FromMinutes(1), default));

        Assert.Equal(0, (await ledger.CapUsedAsync("month", default)).Micros); // was left at 10 for good
        Assert.Equal(10, (await ledger.CapUsedAsync("day", default)).Micros);
        Assert.Equal(990, (await ledger.BalanceAsync(Accounts.Credits("p"), default)).Micros);
        Assert.False(await ledger.EntryExistsAsync("e", default));
        Assert.All(await ledger.TrialBalanceAsync(default), a => Assert.Equal(a.PostedSum, a.Balance));
    }

    [Fact]
    public async Task A_refused_entry_whose_take_back_was_cut_short_is_taken_back_by_recovery_and_never_posted()
    {
        var (ledger, time, journals, counters) = await FundedAsync();
        IReadOnlyList<CapCheck> caps = [new CapCheck("month", Usd.FromMicros(300), Usd.FromMicros(1_000))];
        // All of e's parts are in, and it was refused (a later leg of it could not be applied): its take-back died
        // before taking back anything. Replayed, it would now post; it must go back instead.
        Assert.Equal(PostResult.Posted, await ledger.PostAsync(LedgerEntry.Transfer("e", "spend", Accounts.Credits("p"), Accounts.Earnings("o"), Usd.FromMicros(300)), caps, default));
        var journal = (await journals.GetEntityAsync<Azure.Data.Tables.TableEntity>("e", "entry")).Value;
        journal["State"] = "refused";
        await journals.UpdateEntityAsync(journal, Azure.ETag.All, Azure.Data.Tables.TableUpdateMode.Replace);
        Assert.False(await ledger.EntryExistsAsync("e", default));
        time.Advance(TimeSpan.FromMinutes(5));

        Assert.Equal(1, await ledger.RecoverAsync(TimeSpan.FromMinutes(1), default));

        Assert.Equal(1_000, (await ledger.BalanceAsync(Accounts.Credits("p"), default)).Micros);
        Assert.Equal(0, (await ledger.BalanceAsync(Accounts.Earnings("o"), default)).Micros);
        Assert.Equal(0, (await ledger.CapUsedAsync("month", default)).Micros);
        Assert.Null(await ledger.EntryLegsAsync("e", default));
        Assert.Equal(0, await ledger.RecoverAsync(TimeSpan.FromMinutes(1), default));
        Assert.All(await ledger.TrialBalanceAsync(default), a => Assert.Equal(a.PostedSum, a.Balance));
    }

    [Fact]
    public async Task A_post_under_the_key_of_a_refused_entry_still_being_taken_back_is_told_not_now_then_posts_once()
    {
        var (ledger, time, journals, counters) = await FundedAsync();
        IReadOnlyList<CapCheck> caps = [new CapCheck("month", Usd.FromMicros(300), Usd.FromMicros(1_000))];
        var entry = LedgerEntry.Transfer("e", "spend", Accounts.Credits("p"), Accounts.Earnings("o"), Usd.FromMicros(300));
        // e was refused with its parts in, and its take-back died at once: only its journal row says so.
        Assert.Equal(PostResult.Posted, await ledger.PostAsync(entry, caps, default));
        var journal = (await journals.GetEntityAsync<Azure.Data.Tables.TableEntity>("e", "entry")).Value;
        journal["State"] = "refused";
        await journals.UpdateEntityAsync(journal, Azure.ETag.All, Azure.Data.Tables.TableUpdateMode.Replace);

        // Posted again under its key meanwhile: "not now" (never Duplicate for what did not post), nothing touched.
        await Assert.ThrowsAsync<RowContendedException>(() => ledger.PostAsync(entry, caps, default));
        Assert.Equal(700, (await ledger.BalanceAsync(Accounts.Credits("p"), default)).Micros);

        // Recovery finishes the take-back; then the same post goes through, once.
        time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(1, await ledger.RecoverAsync(TimeSpan.FromMinutes(1), default));
        Assert.Equal(1_000, (await ledger.BalanceAsync(Accounts.Credits("p"), default)).Micros);
        Assert.Equal(0, (await ledger.CapUsedAsync("month", default)).Micros);
        Assert.Equal(PostResult.Posted, await ledger.PostAsync(entry, caps, default));
        Assert.Equal(PostResult.Duplicate, await ledger.PostAsync(entry, caps, default));
        Assert.Equal(700, (await ledger.BalanceAsync(Accounts.Credits("p"), default)).Micros);
        Assert.Equal(300, (await ledger.BalanceAsync(Accounts.Earnings("o"), default)).Micros);
        Assert.Equal(300, (await ledger.CapUsedAsync("month", default)).Micros);
        Assert.All(await ledger.TrialBalanceAsync(default), a => Assert.Equal(a.PostedSum, a.Balance));
    }

    [Fact]
    public async Task A_counter_give_back_cut_short_is_finished_by_recovery()
    {
        var (ledger, time, journals, counters) = await FundedAsync();
        IReadOnlyList<CapCheck> caps = [new CapCheck("month", Usd.FromMicros(400), Usd.FromMicros(1_000))];
        foreach (var id in new[] { "h1", "h2" })
        {
            Assert.Equal(PostResult.Posted, await ledger.PostAsync(LedgerEntry.Transfer(id, "hold", Accounts.Credits("p"), Accounts.Hold(id), Usd.FromMicros(400)), caps, default));
        }
        Assert.Equal(PostResult.Posted, await ((ILedger)ledger).ReleaseHoldAsync("h1", LedgerEntry.Transfer("h1:release", "release", Accounts.Hold("h1"), Accounts.Credits("p"), Usd.FromMicros(400)), caps, default));
        Assert.Equal(400, (await ledger.CapUsedAsync("month", default)).Micros);
        // h2's release: posted, then the process died with its give-back journaled and nothing of it applied.
        Assert.Equal(PostResult.Posted, await ledger.PostAsync(LedgerEntry.Transfer("h2:release", "release", Accounts.Hold("h2"), Accounts.Credits("p"), Usd.FromMicros(400)), [], default));
        var journal = (await journals.GetEntityAsync<Azure.Data.Tables.TableEntity>("h1:giveback", "entry")).Value;
        journal.PartitionKey = "h2:giveback";
        journal["State"] = "pending";
        await journals.AddEntityAsync(journal);
        time.Advance(TimeSpan.FromMinutes(5));

        Assert.Equal(1, await ledger.RecoverAsync(TimeSpan.FromMinutes(1), default));

        Assert.Equal(1_000, (await ledger.BalanceAsync(Accounts.Credits("p"), default)).Micros);
        Assert.Equal(0, (await ledger.CapUsedAsync("month", default)).Micros);
        // Given back once: the call's release repeated gives nothing more.
        Assert.NotEqual(PostResult.Posted, await ((ILedger)ledger).ReleaseHoldAsync("h2", LedgerEntry.Transfer("h2:release", "release", Accounts.Hold("h2"), Accounts.Credits("p"), Usd.FromMicros(400)), caps, default));
        Assert.Equal(0, (await ledger.CapUsedAsync("month", default)).Micros);
        Assert.Equal(PostResult.Posted, await ledger.PostAsync(LedgerEntry.Transfer("h3", "hold", Accounts.Credits("p"), Accounts.Hold("h3"), Usd.FromMicros(400)), caps, default));
        Assert.Equal(400, (await ledger.CapUsedAsync("month", default)).Micros);
        Assert.All(await ledger.TrialBalanceAsync(default), a => Assert.Equal(a.PostedSum, a.Balance));
    }
}
