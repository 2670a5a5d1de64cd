using Azure.Data.Tables;
using Microsoft.Extensions.Time.Testing;
using X402Serverless.AzureStorage;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Ledger;

/// <summary>
/// Many calls at once on one payer's credits (spends, holds with a cap, captures, releases) on Table Storage: every
/// entry reported Posted is applied exactly once, so the payer ends at funded − captured − spent. A leg whose
/// changeset lost its ETag race and came back as 409 was once taken as already applied, dropping the debit of an
/// entry reported Posted.
/// </summary>
public sealed class TableLedgerRaceTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private const long Funded = 1_000;
    private const long HoldAmount = 30;
    private const long SpendAmount = 7;
    private const int Calls = 60;

    [Fact]
    public async Task Concurrent_holds_spends_captures_and_releases_lose_no_debit()
    {
        // Two rounds at a time, three times: more requests in flight make more writers lose races.
        for (var round = 0; round < 6; round += 2)
        {
            await Task.WhenAll(RunRoundAsync(azurite.Tables, round), RunRoundAsync(azurite.Tables, round + 1));
        }
    }

    [Fact]
    public async Task A_lost_race_reported_as_a_conflict_is_retried_not_taken_as_applied()
    {
        var tables = LostRaceReportedAsConflict.Client(azurite);
        await Task.WhenAll(RunRoundAsync(tables, 0), RunRoundAsync(tables, 1));
    }

    private static async Task RunRoundAsync(TableServiceClient tables, int round)
    {
        // Three ledgers on the same tables, as three processes would be: within one, a row's writers take turns
        // (RowGates), so the ETag races this test is about happen between them.
        var (entries, accounts, capsTable) = (AzuriteFixture.UniqueTable("entries"), AzuriteFixture.UniqueTable("accounts"), AzuriteFixture.UniqueTable("caps"));
        var processes = Enumerable.Range(0, 3).Select(_ => new TableLedger(tables, new FakeTimeProvider(DateTimeOffset.UnixEpoch), entries, accounts, capsTable)).ToList();
        var ledger = processes[0];
        await ledger.InitializeAsync(default);
        var credits = Accounts.Credits("p");
        Assert.Equal(PostResult.Posted, await ledger.PostAsync(LedgerEntry.Transfer("fund", "topup", Accounts.CardClearing, credits, Usd.FromMicros(Funded)), [], default));

        var outcomes = await Task.WhenAll(Enumerable.Range(0, Calls).Select(i => Task.Run(async () =>
        {
            var writer = processes[i % processes.Count];
            long spent = 0, captured = 0;
            if (i % 5 == 0 && await writer.PostAsync(LedgerEntry.Transfer($"spend{i}", "refund", credits, Accounts.CardClearing, Usd.FromMicros(SpendAmount)), [], default) == PostResult.Posted)
            {
                spent = SpendAmount;
            }
            var id = $"h{i}";
            IReadOnlyList<CapCheck> caps = [new CapCheck("member-month:o:p:2026-11", Usd.FromMicros(HoldAmount), Usd.FromMicros(600))];
            if (await writer.PostAsync(LedgerEntry.Transfer(id, "hold", credits, Accounts.Hold(id), Usd.FromMicros(HoldAmount)), caps, default) != PostResult.Posted)
            {
                return (spent, captured);
            }
            if (i % 2 == 1)
            {
                Assert.Equal(PostResult.Posted, await writer.PostAsync(LedgerEntry.Transfer($"{id}:capture", "capture", Accounts.Hold(id), Accounts.Earnings("o"), Usd.FromMicros(HoldAmount)), [], default));
                captured = HoldAmount;
            }
            else
            {
                Assert.Equal(PostResult.Posted, await writer.PostAsync(LedgerEntry.Transfer($"{id}:release", "release", Accounts.Hold(id), credits, Usd.FromMicros(HoldAmount)), [], default));
                await writer.UndoCapsAsync(caps, default);
            }
            return (spent, captured);
        })));

        var spentTotal = outcomes.Sum(o => o.spent);
        var capturedTotal = outcomes.Sum(o => o.captured);
        var balance = (await ledger.BalanceAsync(credits, default)).Micros;
        Assert.True(Funded - capturedTotal - spentTotal == balance, $"round {round}: credits {balance}, expected {Funded} − {capturedTotal} captured − {spentTotal} spent");
        Assert.Equal(capturedTotal, (await ledger.BalanceAsync(Accounts.Earnings("o"), default)).Micros);
        // The cap counts the captured holds only: every released or refused hold gave its count back.
        Assert.Equal(capturedTotal, (await ledger.CapUsedAsync("member-month:o:p:2026-11", default)).Micros);
        Assert.Equal(0, (await ledger.TotalAsync(default)).Micros);
        Assert.All(await ledger.TrialBalanceAsync(default), a => Assert.True(a.Balance == a.PostedSum, $"round {round}: {a.Account} balance {a.Balance.Micros}, postings {a.PostedSum.Micros}"));
    }
}
