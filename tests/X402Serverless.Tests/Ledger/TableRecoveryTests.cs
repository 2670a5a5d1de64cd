using System.Globalization;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Microsoft.Extensions.Time.Testing;
using X402Serverless.AzureStorage;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Ledger;

/// <summary>
/// Recovery on Table Storage finishes what crashes left journaled. An entry it cannot finish (contended, or a journal
/// row it cannot read) is reported and left for a later pass; it never stops the entries after it from being finished.
/// </summary>
public sealed class TableRecoveryTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private readonly string _entriesTable = AzuriteFixture.UniqueTable("entries");
    private readonly string _accountsTable = AzuriteFixture.UniqueTable("accounts");
    private readonly string _capsTable = AzuriteFixture.UniqueTable("caps");

    [Fact]
    public async Task A_journal_row_recovery_cannot_read_is_reported_and_the_entries_after_it_are_still_finished()
    {
        var (ledger, time) = await FundedAsync();
        await JournalAsync("a-unreadable", legs: "not json");
        await JournalAsync("b-crashed", legs: """[["credits:p","-300"],["earnings:o","300"]]""");
        time.Advance(TimeSpan.FromMinutes(5));

        var failed = await Assert.ThrowsAsync<AggregateException>(() => ledger.RecoverAsync(TimeSpan.FromMinutes(1), default));

        Assert.Contains("a-unreadable", Assert.Single(failed.InnerExceptions).Message, StringComparison.Ordinal);
        Assert.Equal(700, (await ledger.BalanceAsync(Accounts.Credits("p"), default)).Micros);
        Assert.Equal(300, (await ledger.BalanceAsync(Accounts.Earnings("o"), default)).Micros);
        Assert.NotNull(await ledger.EntryLegsAsync("b-crashed", default));
    }

    [Fact]
    public async Task Entries_that_keep_failing_fill_no_pass_for_good_the_next_pass_goes_on_after_them_in_any_process()
    {
        var (_, time) = await FundedAsync();
        var unreadable = Enumerable.Range(0, TableLedger.RecoveryBatch).Select(i => $"a-{i:D3}").ToList();
        await Task.WhenAll(unreadable.Select(key => JournalAsync(key, legs: "[[")));
        await JournalAsync("b-crashed", legs: """[["credits:p","-300"],["earnings:o","300"]]""");
        time.Advance(TimeSpan.FromMinutes(5));

        // The first pass takes up a whole batch of rows it cannot read; the next, in another process (a fresh instance
        // runs each pass), goes on after them.
        var first = await Assert.ThrowsAsync<AggregateException>(() => Ledger(time).RecoverAsync(TimeSpan.FromMinutes(1), default));
        Assert.Equal(TableLedger.RecoveryBatch, first.InnerExceptions.Count);
        Assert.Equal(1_000, (await Ledger(time).BalanceAsync(Accounts.Credits("p"), default)).Micros);
        Assert.Equal(1, await Ledger(time).RecoverAsync(TimeSpan.FromMinutes(1), default));
        Assert.Equal(700, (await Ledger(time).BalanceAsync(Accounts.Credits("p"), default)).Micros);

        // Then it starts over from the beginning: once the first pass's claims ran out, the rows still failing are
        // reported again, and nothing is posted twice.
        time.Advance(TableLedger.RecoveryLimit + TimeSpan.FromMinutes(1));
        var third = await Assert.ThrowsAsync<AggregateException>(() => Ledger(time).RecoverAsync(TimeSpan.FromMinutes(1), default));
        Assert.Equal(TableLedger.RecoveryBatch, third.InnerExceptions.Count);
        Assert.Equal(700, (await Ledger(time).BalanceAsync(Accounts.Credits("p"), default)).Micros);
        Assert.All(await Ledger(time).TrialBalanceAsync(default), a => Assert.Equal(a.PostedSum, a.Balance));
    }

    [Fact]
    public async Task An_entry_whose_legs_do_not_balance_is_reported_and_never_applied()
    {
        var (ledger, time) = await FundedAsync();
        await JournalAsync("minted", legs: """[["credits:p","300"]]""");
        await JournalAsync("skewed", legs: """[["credits:p","-300"],["earnings:o","500"]]""");
        time.Advance(TimeSpan.FromMinutes(5));

        var failed = await Assert.ThrowsAsync<AggregateException>(() => ledger.RecoverAsync(TimeSpan.FromMinutes(1), default));

        Assert.Equal(2, failed.InnerExceptions.Count);
        Assert.All(failed.InnerExceptions, e => Assert.Contains("do not balance", e.Message, StringComparison.Ordinal));
        Assert.Equal(1_000, (await ledger.BalanceAsync(Accounts.Credits("p"), default)).Micros);
        Assert.Equal(0, (await ledger.BalanceAsync(Accounts.Earnings("o"), default)).Micros);
    }

    [Fact]
    public async Task An_entry_another_recovery_is_working_on_is_left_to_it_until_its_claim_runs_out()
    {
        var held = new HeldTableBatch(1); // its first balance write
        var (_, time) = await FundedAsync();
        await JournalAsync("b-crashed", legs: """[["credits:p","-300"],["earnings:o","300"]]""");
        time.Advance(TimeSpan.FromMinutes(5));

        // Recovery in one process has taken the entry up; its first balance write is held on the wire.
        var first = Task.Run(() => Ledger(time, held).RecoverAsync(TimeSpan.FromMinutes(1), default));
        await held.Reached.WaitAsync(TimeSpan.FromSeconds(30));
        // Recovery in another process leaves it alone: nothing of it is read or written.
        var requests = new RequestLog();
        Assert.Equal(0, await Ledger(time, requests).RecoverAsync(TimeSpan.FromMinutes(1), default));
        Assert.DoesNotContain(requests.Paths, path => path.Contains("b-crashed", StringComparison.Ordinal) || path.Contains("accounts", StringComparison.Ordinal));

        held.Release();
        Assert.Equal(1, await first);
        Assert.Equal(700, (await Ledger(time).BalanceAsync(Accounts.Credits("p"), default)).Micros);
        Assert.Equal(300, (await Ledger(time).BalanceAsync(Accounts.Earnings("o"), default)).Micros);
    }

    [Fact]
    public async Task An_entry_whose_recovery_stopped_is_taken_up_again_once_its_claim_runs_out()
    {
        var (_, time) = await FundedAsync();
        await JournalAsync("b-crashed", legs: """[["credits:p","-300"],["earnings:o","300"]]""");
        time.Advance(TimeSpan.FromMinutes(5));
        // A recovery claimed the entry, then its process stopped before sending anything for it.
        var entries = azurite.Tables.GetTableClient(_entriesTable);
        var row = (await entries.GetEntityAsync<TableEntity>("b-crashed", "entry")).Value;
        row["ClaimedUntil"] = (time.GetUtcNow() + TableLedger.RecoveryLimit + TimeSpan.FromMinutes(1)).UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
        await entries.UpdateEntityAsync(row, row.ETag);

        Assert.Equal(0, await Ledger(time).RecoverAsync(TimeSpan.FromMinutes(1), default));
        Assert.Equal(1_000, (await Ledger(time).BalanceAsync(Accounts.Credits("p"), default)).Micros);

        time.Advance(TableLedger.RecoveryLimit + TimeSpan.FromMinutes(1));
        Assert.Equal(1, await Ledger(time).RecoverAsync(TimeSpan.FromMinutes(1), default));
        Assert.Equal(700, (await Ledger(time).BalanceAsync(Accounts.Credits("p"), default)).Micros);
    }

    /// <summary>A journal row left pending by a process that stopped before applying anything.</summary>
    private async Task JournalAsync(string key, string legs) =>
        await azurite.Tables.GetTableClient(_entriesTable).AddEntityAsync(new TableEntity(key, "entry")
        {
            ["Kind"] = "spend", ["State"] = "pending", ["Run"] = "another", ["Legs"] = legs, ["Caps"] = "[]",
            ["CreatedAt"] = DateTimeOffset.UnixEpoch.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
        });

    /// <summary>A ledger on fresh tables whose payer's credits hold 1,000.</summary>
    private async Task<(TableLedger Ledger, FakeTimeProvider Time)> FundedAsync()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var ledger = Ledger(time);
        await ledger.InitializeAsync(default);
        Assert.Equal(PostResult.Posted, await ledger.PostAsync(LedgerEntry.Transfer("fund", "topup", Accounts.CardClearing, Accounts.Credits("p"), Usd.FromMicros(1_000)), [], default));
        return (ledger, time);
    }

    /// <summary>A ledger on this test's tables, as a process of its own would have (<paramref name="policy"/> sees its requests).</summary>
    private TableLedger Ledger(FakeTimeProvider time, HttpPipelinePolicy? policy = null) =>
        new(policy is null ? azurite.Tables : azurite.Client(policy), time, _entriesTable, _accountsTable, _capsTable);

    /// <summary>The path and query of every request sent.</summary>
    private sealed class RequestLog : HttpPipelineSynchronousPolicy
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _paths = new();

        public IEnumerable<string> Paths => _paths;

        public override void OnSendingRequest(HttpMessage message) => _paths.Enqueue(Uri.UnescapeDataString(message.Request.Uri.ToString()));
    }
}
