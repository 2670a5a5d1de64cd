using Microsoft.Extensions.Time.Testing;
using X402Serverless.AzureStorage;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Ledger;

/// <summary>
/// A Table ledger skips reading a balance or counter row it wrote last. Another process (another ledger on the same
/// tables) moving that row meanwhile must never let the remembered row overspend, nor refuse what the stored row allows.
/// </summary>
public sealed class TableKnownRowsTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly string Credits = Accounts.Credits("p");

    [Fact]
    public async Task A_credit_limit_lowered_by_another_process_holds_against_a_balance_this_process_remembers()
    {
        var (mine, theirs) = await TwoProcessesAsync();
        await mine.SetFloorAsync(Credits, -Usd.FromMicros(500), default);
        Assert.Equal(PostResult.Posted, await mine.PostAsync(Spend("s1", 100), [], default)); // remembered: 900, floor -500

        // The limit is taken away elsewhere: 1,200 more would fit the remembered floor, not the stored one.
        await theirs.SetFloorAsync(Credits, Usd.Zero, default);
        Assert.Equal(PostResult.Insufficient, await mine.PostAsync(Spend("s2", 1_200), [], default));

        Assert.Equal(900, (await mine.BalanceAsync(Credits, default)).Micros);
        Assert.Equal(PostResult.Posted, await mine.PostAsync(Spend("s3", 900), [], default));
        Assert.Equal(0, (await mine.BalanceAsync(Credits, default)).Micros);
        Assert.All(await mine.TrialBalanceAsync(default), a => Assert.Equal(a.PostedSum, a.Balance));
    }

    [Fact]
    public async Task Money_added_by_another_process_is_spendable_though_the_remembered_balance_is_short()
    {
        var (mine, theirs) = await TwoProcessesAsync();
        Assert.Equal(PostResult.Posted, await mine.PostAsync(Spend("s1", 900), [], default)); // remembered: 100

        Assert.Equal(PostResult.Posted, await theirs.PostAsync(LedgerEntry.Transfer("topup2", "topup", Accounts.CardClearing, Credits, Usd.FromMicros(500)), [], default));
        Assert.Equal(PostResult.Posted, await mine.PostAsync(Spend("s2", 300), [], default));

        Assert.Equal(300, (await mine.BalanceAsync(Credits, default)).Micros);
        Assert.Equal(1_200, (await mine.BalanceAsync(Accounts.Earnings("o"), default)).Micros);
        Assert.All(await mine.TrialBalanceAsync(default), a => Assert.Equal(a.PostedSum, a.Balance));
    }

    [Fact]
    public async Task A_cap_counted_or_given_back_by_another_process_is_respected_both_ways()
    {
        var (mine, theirs) = await TwoProcessesAsync();
        IReadOnlyList<CapCheck> Cap(long amount) => [new CapCheck("payer-month:p:2026-11", Usd.FromMicros(amount), Usd.FromMicros(500))];
        Assert.Equal(PostResult.Posted, await mine.PostAsync(Spend("s1", 400), Cap(400), default)); // remembered: 400 used

        // Given back elsewhere: what the remembered count refuses, the stored one allows.
        await theirs.UndoCapsAsync(Cap(400), default);
        Assert.Equal(PostResult.Posted, await mine.PostAsync(Spend("s2", 300), Cap(300), default)); // remembered: 300 used

        // Counted elsewhere: 100 more would fit the remembered count, not the stored one.
        Assert.Equal(PostResult.Posted, await theirs.PostAsync(Spend("t1", 150), Cap(150), default));
        Assert.Equal(PostResult.CapExceeded, await mine.PostAsync(Spend("s3", 100), Cap(100), default));

        Assert.Equal(450, (await mine.CapUsedAsync("payer-month:p:2026-11", default)).Micros);
        Assert.Equal(150, (await mine.BalanceAsync(Credits, default)).Micros);
    }

    private static LedgerEntry Spend(string key, long micros) => LedgerEntry.Transfer(key, "spend", Credits, Accounts.Earnings("o"), Usd.FromMicros(micros));

    /// <summary>Two ledgers on the same fresh tables, as two processes are; the payer's credits hold 1,000.</summary>
    private async Task<(TableLedger Mine, TableLedger Theirs)> TwoProcessesAsync()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var tables = (AzuriteFixture.UniqueTable("entries"), AzuriteFixture.UniqueTable("accounts"), AzuriteFixture.UniqueTable("caps"));
        var mine = new TableLedger(azurite.Tables, time, tables.Item1, tables.Item2, tables.Item3);
        var theirs = new TableLedger(azurite.Tables, time, tables.Item1, tables.Item2, tables.Item3);
        await mine.InitializeAsync(default);
        Assert.Equal(PostResult.Posted, await theirs.PostAsync(LedgerEntry.Transfer("fund", "topup", Accounts.CardClearing, Credits, Usd.FromMicros(1_000)), [], default));
        return (mine, theirs);
    }
}
