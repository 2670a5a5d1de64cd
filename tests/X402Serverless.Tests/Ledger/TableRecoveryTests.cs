using System.Globalization;
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
    public async Task Entries_that_keep_failing_fill_no_pass_for_good_the_next_pass_goes_on_after_them()
    {
        var (ledger, time) = await FundedAsync();
        var unreadable = Enumerable.Range(0, TableLedger.RecoveryBatch).Select(i => $"a-{i:D3}").ToList();
        await Task.WhenAll(unreadable.Select(key => JournalAsync(key, legs: "[[")));
        await JournalAsync("b-crashed", legs: """[["credits:p","-300"],["earnings:o","300"]]""");
        time.Advance(TimeSpan.FromMinutes(5));

        // The first pass takes up a whole batch of rows it cannot read; the next goes on after them.
        var first = await Assert.ThrowsAsync<AggregateException>(() => ledger.RecoverAsync(TimeSpan.FromMinutes(1), default));
        Assert.Equal(TableLedger.RecoveryBatch, first.InnerExceptions.Count);
        Assert.Equal(1_000, (await ledger.BalanceAsync(Accounts.Credits("p"), default)).Micros);
        Assert.Equal(1, await ledger.RecoverAsync(TimeSpan.FromMinutes(1), default));
        Assert.Equal(700, (await ledger.BalanceAsync(Accounts.Credits("p"), default)).Micros);

        // Then it starts over from the beginning: the rows still failing are reported again, nothing is posted twice.
        var third = await Assert.ThrowsAsync<AggregateException>(() => ledger.RecoverAsync(TimeSpan.FromMinutes(1), default));
        Assert.Equal(TableLedger.RecoveryBatch, third.InnerExceptions.Count);
        Assert.Equal(700, (await ledger.BalanceAsync(Accounts.Credits("p"), default)).Micros);
        Assert.All(await ledger.TrialBalanceAsync(default), a => Assert.Equal(a.PostedSum, a.Balance));
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
        var ledger = new TableLedger(azurite.Tables, time, _entriesTable, AzuriteFixture.UniqueTable("accounts"), AzuriteFixture.UniqueTable("caps"));
        await ledger.InitializeAsync(default);
        Assert.Equal(PostResult.Posted, await ledger.PostAsync(LedgerEntry.Transfer("fund", "topup", Accounts.CardClearing, Accounts.Credits("p"), Usd.FromMicros(1_000)), [], default));
        return (ledger, time);
    }
}
