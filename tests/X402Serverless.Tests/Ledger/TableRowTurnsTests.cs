using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Microsoft.Extensions.Time.Testing;
using X402Serverless.AzureStorage;
using X402Serverless.AzureStorage.Tables;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;
using X402Serverless.Core.Ports;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Ledger;

/// <summary>
/// On Table Storage, the calls of one payer at once in one process take turns on the payer's balance and cap rows
/// instead of racing on their ETags and backing off: none of them loses a race, and every debit is applied once.
/// </summary>
public sealed class TableRowTurnsTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Calls_of_one_payer_at_once_in_one_process_lose_no_etag_race_and_each_debit_lands_once()
    {
        var races = new LostRaces();
        var ledger = await LedgerAsync(races, AzuriteFixture.UniqueTable("caps"));
        var credits = Accounts.Credits("p");
        Assert.Equal(PostResult.Posted, await ledger.PostAsync(LedgerEntry.Transfer("fund", "topup", Accounts.CardClearing, credits, Usd.FromMicros(1_000)), [], default));

        // 40 spends of 7 under a cap of 210: exactly 30 fit the cap, all of them fit the balance.
        IReadOnlyList<CapCheck> cap = [new CapCheck("member-month:o:p:2026-11", Usd.FromMicros(7), Usd.FromMicros(210))];
        var results = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(() =>
            ledger.PostAsync(LedgerEntry.Transfer($"spend{i}", "spend", credits, Accounts.Earnings("o"), Usd.FromMicros(7)), cap, default))));

        Assert.Equal(30, results.Count(r => r == PostResult.Posted));
        Assert.Equal(10, results.Count(r => r == PostResult.CapExceeded));
        Assert.Equal(1_000 - 30 * 7, (await ledger.BalanceAsync(credits, default)).Micros);
        Assert.Equal(30 * 7, (await ledger.BalanceAsync(Accounts.Earnings("o"), default)).Micros);
        Assert.All(await ledger.TrialBalanceAsync(default), a => Assert.Equal(a.PostedSum, a.Balance));
        Assert.Equal(0, races.Count);
    }

    [Fact]
    public async Task A_cap_given_back_that_loses_to_another_process_a_dozen_times_in_a_row_is_still_given_back()
    {
        var rival = new RivalWrites();
        var capsTable = AzuriteFixture.UniqueTable("caps");
        var ledger = await LedgerAsync(rival, capsTable);
        var credits = Accounts.Credits("p");
        await ledger.PostAsync(LedgerEntry.Transfer("fund", "topup", Accounts.CardClearing, credits, Usd.FromMicros(1_000)), [], default);
        IReadOnlyList<CapCheck> cap = [new CapCheck("member-month:o:p:2026-11", Usd.FromMicros(30), Usd.FromMicros(600))];
        Assert.Equal(PostResult.Posted, await ledger.PostAsync(LedgerEntry.Transfer("h1", "hold", credits, Accounts.Hold("h1"), Usd.FromMicros(30)), cap, default));
        Assert.Equal(30, (await ledger.CapUsedAsync(cap[0].Key, default)).Micros);

        // Another process moves the counter before each of the next 12 writes to it, so each finds its ETag stale.
        rival.Fail(capsTable, 12);
        await ledger.UndoCapsAsync(cap, default);

        Assert.Equal(12, rival.Failed);
        Assert.Equal(0, (await ledger.CapUsedAsync(cap[0].Key, default)).Micros);
    }

    [Fact]
    public async Task A_cap_give_back_that_keeps_losing_to_another_process_fails_loudly_and_leaves_the_count_as_it_was()
    {
        var rival = new RivalWrites();
        var capsTable = AzuriteFixture.UniqueTable("caps");
        var ledger = await LedgerAsync(rival, capsTable);
        var credits = Accounts.Credits("p");
        await ledger.PostAsync(LedgerEntry.Transfer("fund", "topup", Accounts.CardClearing, credits, Usd.FromMicros(1_000)), [], default);
        IReadOnlyList<CapCheck> cap = [new CapCheck("member-month:o:p:2026-11", Usd.FromMicros(30), Usd.FromMicros(600))];
        Assert.Equal(PostResult.Posted, await ledger.PostAsync(LedgerEntry.Transfer("h1", "hold", credits, Accounts.Hold("h1"), Usd.FromMicros(30)), cap, default));

        // Every write loses: the caller hears of it (the old code returned after 10 tries as if it had given the count back).
        rival.Fail(capsTable, int.MaxValue);
        var failure = await Assert.ThrowsAsync<RowContendedException>(() => ledger.UndoCapsAsync(cap, default));

        Assert.Equal(412, failure.Status);
        Assert.Equal(50, rival.Failed);
        rival.Fail(capsTable, 0);
        Assert.Equal(30, (await ledger.CapUsedAsync(cap[0].Key, default)).Micros);
    }

    [Fact]
    public async Task A_credit_limit_set_while_another_process_keeps_moving_the_balance_still_lands()
    {
        var rival = new RivalWrites();
        var accountsTable = AzuriteFixture.UniqueTable("accounts");
        var ledger = await LedgerAsync(rival, AzuriteFixture.UniqueTable("caps"), accountsTable);
        var credits = Accounts.Credits("p");
        await ledger.SetFloorAsync(credits, Usd.Zero, default);

        // The old code tried 10 times at once, then returned as if the limit were set.
        rival.Fail(accountsTable, 12);
        await ledger.SetFloorAsync(credits, -Usd.FromMicros(500), default);

        Assert.Equal(12, rival.Failed);
        Assert.Equal(PostResult.Posted, await ledger.PostAsync(LedgerEntry.Transfer("spend", "spend", credits, Accounts.Earnings("o"), Usd.FromMicros(400)), [], default));
        Assert.Equal(PostResult.Insufficient, await ledger.PostAsync(LedgerEntry.Transfer("spend2", "spend", credits, Accounts.Earnings("o"), Usd.FromMicros(101)), [], default));
        Assert.Equal(-400, (await ledger.BalanceAsync(credits, default)).Micros);
    }

    [Fact]
    public async Task An_entry_that_takes_longer_than_a_live_run_may_is_left_to_recovery_which_finishes_it()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var slow = new SlowBalanceWrites(clock);
        var ledger = await LedgerAsync(slow, AzuriteFixture.UniqueTable("caps"), time: clock);
        var credits = Accounts.Credits("p");
        Assert.Equal(PostResult.Posted, await ledger.PostAsync(LedgerEntry.Transfer("fund", "topup", Accounts.CardClearing, credits, Usd.FromMicros(1_000)), [], default));

        // The payer's debit lands, then the clock passes the live run's limit before the credit: the run stops there
        // (a recoverer may take the entry up after that, and the two must never work on it at once).
        slow.Arm();
        var stopped = await Assert.ThrowsAsync<RowContendedException>(() =>
            ledger.PostAsync(LedgerEntry.Transfer("spend", "spend", credits, Accounts.Earnings("o"), Usd.FromMicros(300)), [], default));
        Assert.Contains("recovery finishes it", stopped.Message, StringComparison.Ordinal);
        Assert.Equal(700, (await ledger.BalanceAsync(credits, default)).Micros);
        Assert.Equal(0, (await ledger.BalanceAsync(Accounts.Earnings("o"), default)).Micros);

        // Recovery does not take it up before the live run's limit has long passed, whatever age it is asked for.
        Assert.Equal(0, await ledger.RecoverAsync(TimeSpan.FromSeconds(1), default));
        clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(1, await ledger.RecoverAsync(TimeSpan.FromSeconds(1), default));
        Assert.Equal(300, (await ledger.BalanceAsync(Accounts.Earnings("o"), default)).Micros);
        Assert.All(await ledger.TrialBalanceAsync(default), a => Assert.Equal(a.PostedSum, a.Balance));
    }

    [Fact]
    public async Task A_credits_paid_call_reads_no_hot_row_this_process_wrote_last_hold_capture_and_release_each_a_few_round_trips()
    {
        // Counted once per call, so an SDK retry on a loaded machine does not count twice.
        var requests = new Requests();
        var ledger = await LedgerAsync(requests, AzuriteFixture.UniqueTable("caps"), position: HttpPipelinePosition.PerCall);
        var credits = Accounts.Credits("p");
        Assert.Equal(PostResult.Posted, await ledger.PostAsync(LedgerEntry.Transfer("fund", "topup", Accounts.CardClearing, credits, Usd.FromMicros(1_000)), [], default));
        IReadOnlyList<CapCheck> cap = [new CapCheck("payer-month:p:2026-11", Usd.FromMicros(10), Usd.FromMicros(1_000))];
        async Task CallAsync(string id, bool capture)
        {
            Assert.Equal(PostResult.Posted, (await ((ILedger)ledger).HoldFirstAsync([(LedgerEntry.Transfer(id, "hold", credits, Accounts.Hold(id), Usd.FromMicros(10)), cap)], default)).Result);
            var done = capture
                ? await ((ILedger)ledger).CaptureHoldAsync(id, new LedgerEntry(id + ":capture", "capture",
                    [new Leg(Accounts.Hold(id), -Usd.FromMicros(10)), new Leg(Accounts.Earnings("o"), Usd.FromMicros(9)), new Leg(Accounts.OperatorFees, Usd.FromMicros(1))]), default)
                : await ((ILedger)ledger).ReleaseHoldAsync(id, LedgerEntry.Transfer(id + ":release", "release", Accounts.Hold(id), credits, Usd.FromMicros(10)), cap, default);
            Assert.Equal(PostResult.Posted, done);
        }
        await CallAsync("h0", capture: true); // the first call reads the rows it finds

        var before = requests.Count;
        await CallAsync("h1", capture: true);
        var paid = requests.Count - before;
        before = requests.Count;
        await CallAsync("h2", capture: false);
        var released = requests.Count - before;

        // Hold: journal, counter, debit, hold account, posted. Capture: journal, three legs, posted. Release: the give-back's
        // journal, the release's journal and two legs, posted, the give-back's counter, posted (and the capture looked for).
        Assert.Equal(5 + 5, paid);
        Assert.Equal(5 + 8, released);
        Assert.Equal(980, (await ledger.BalanceAsync(credits, default)).Micros);
        Assert.Equal(18, (await ledger.BalanceAsync(Accounts.Earnings("o"), default)).Micros);
        Assert.Equal(20, (await ledger.CapUsedAsync(cap[0].Key, default)).Micros);
        Assert.All(await ledger.TrialBalanceAsync(default), a => Assert.Equal(a.PostedSum, a.Balance));
    }

    /// <summary>A ledger on fresh tables whose every request passes through <paramref name="policy"/>.</summary>
    private async Task<TableLedger> LedgerAsync(HttpPipelinePolicy policy, string capsTable, string? accountsTable = null, TimeProvider? time = null,
        HttpPipelinePosition position = HttpPipelinePosition.PerRetry)
    {
        var ledger = new TableLedger(azurite.Client(policy, position), time ?? new FakeTimeProvider(DateTimeOffset.UnixEpoch), AzuriteFixture.UniqueTable("entries"), accountsTable ?? AzuriteFixture.UniqueTable("accounts"), capsTable);
        await ledger.InitializeAsync(default);
        return ledger;
    }

    /// <summary>Sends the next writes of one entity (PUT) to a table with an ETag that no longer matches: the 412 a writer meets when another process got there first.</summary>
    private sealed class RivalWrites : HttpPipelineSynchronousPolicy
    {
        private string? _table;
        private int _left;
        private int _failed;

        public int Failed => Volatile.Read(ref _failed);

        public void Fail(string table, int count) => (_table, _left) = (table, count);

        public override void OnSendingRequest(HttpMessage message)
        {
            if (_table is { } table && message.Request.Method == RequestMethod.Put && message.Request.Uri.Path.Contains($"/{table}(", StringComparison.Ordinal)
                && Interlocked.Decrement(ref _left) >= 0)
            {
                message.Request.Headers.SetValue("If-Match", "W/\"datetime'2000-01-01T00%3A00%3A00.0000000Z'\"");
                Interlocked.Increment(ref _failed);
            }
        }
    }

    /// <summary>Once armed, moves the clock three minutes on after the next entity group transaction (a leg applied).</summary>
    private sealed class SlowBalanceWrites(FakeTimeProvider clock) : HttpPipelineSynchronousPolicy
    {
        private int _armed;

        public void Arm() => Volatile.Write(ref _armed, 1);

        public override void OnReceivedResponse(HttpMessage message)
        {
            if (message.Request.Uri.Path.EndsWith("$batch", StringComparison.Ordinal) && Interlocked.Exchange(ref _armed, 0) == 1)
            {
                clock.Advance(TimeSpan.FromMinutes(3));
            }
        }
    }

    /// <summary>Counts every request sent to the service.</summary>
    private sealed class Requests : HttpPipelineSynchronousPolicy
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public override void OnSendingRequest(HttpMessage message) => Interlocked.Increment(ref _count);
    }

    /// <summary>Counts the entity group transactions the service refused for a stale ETag.</summary>
    private sealed class LostRaces : HttpPipelineSynchronousPolicy
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public override void OnReceivedResponse(HttpMessage message)
        {
            if (message.Response.Status == 412 || (message.Request.Uri.Path.EndsWith("$batch", StringComparison.Ordinal)
                && message.Response.Content.ToString().Contains("UpdateConditionNotSatisfied", StringComparison.Ordinal)))
            {
                Interlocked.Increment(ref _count);
            }
        }
    }
}
