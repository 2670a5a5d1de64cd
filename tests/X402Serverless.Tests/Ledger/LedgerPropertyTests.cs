using Microsoft.Extensions.Time.Testing;
using FsCheck;
using FsCheck.Fluent;
using X402Serverless.AzureStorage;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Ports;
using X402Serverless.Sqlite;
using X402Serverless.Tests.Support;
using X402Serverless.Core.Money;

namespace X402Serverless.Tests.Ledger;

/// <summary>
/// For any sequence of top-ups, holds, captures, releases, plain spends and allowance resets, postings sum to zero,
/// no non-clearing balance is negative, and every cached balance equals the sum of its postings.
/// </summary>
public abstract class LedgerPropertyContract
{
    /// <summary>A fresh ledger and a way to read (account, cached balance, sum of postings) for every account.</summary>
    protected abstract Task<ILedger> CreateAsync();

    protected abstract int Cases { get; }

    private static readonly string[] Payers = ["p1", "p2", "p3"];

    private enum Op
    {
        TopUp,
        Hold,
        Capture,
        Release,
        Spend,
        Reset,
    }

    [Fact]
    public void Postings_always_sum_to_zero_and_no_balance_goes_negative()
    {
        var step =
            from op in Gen.Elements(Enum.GetValues<Op>())
            from payer in Gen.Elements(Payers)
            from amount in Gen.Choose(1, 5_000)
            select (Op: op, Payer: payer, Amount: amount);
        var scenario = Gen.ListOf(step).Select(l => l.Take(60).ToArray());
        Prop.ForAll(scenario.ToArbitrary(), steps => Run(steps).GetAwaiter().GetResult())
            .Check(Config.QuickThrowOnFailure.WithMaxTest(Cases));
    }

    [Fact]
    public async Task Concurrent_holds_never_overdraw()
    {
        var ledger = await CreateAsync();
        await ledger.PostAsync(LedgerEntry.Transfer("fund", "topup", Accounts.CardClearing, Accounts.Credits("p"), Usd.FromMicros(30)), [], default);
        var results = await Task.WhenAll(Enumerable.Range(0, 100).Select(i => Task.Run(() =>
            ledger.PostAsync(LedgerEntry.Transfer($"h{i}", "hold", Accounts.Credits("p"), Accounts.Hold($"h{i}"), Usd.FromMicros(1)), [], default))));
        Assert.Equal(30, results.Count(r => r == PostResult.Posted));
        Assert.Equal(0, (await ledger.BalanceAsync(Accounts.Credits("p"), default)).Micros);
        Assert.Equal(0, (await ledger.TotalAsync(default)).Micros);
    }

    private async Task<bool> Run((Op Op, string Payer, int Amount)[] steps)
    {
        {
            var ledger = await CreateAsync();
            var openHolds = new List<(string Id, string Source, long Amount)>();
            var n = 0;
            foreach (var (op, payer, amount) in steps)
            {
                n++;
                switch (op)
                {
                    case Op.TopUp:
                        await ledger.PostAsync(LedgerEntry.Transfer($"top{n}", "topup", Accounts.CardClearing, Accounts.Credits(payer), Usd.FromMicros(amount)), [], default);
                        break;
                    case Op.Hold:
                        var id = $"h{n}";
                        var (index, result) = await ledger.HoldFirstAsync(
                        [
                            (LedgerEntry.Transfer(id, "hold", Accounts.Allowance("org", payer), Accounts.Hold(id), Usd.FromMicros(amount)), []),
                            (LedgerEntry.Transfer(id, "hold", Accounts.Credits(payer), Accounts.Hold(id), Usd.FromMicros(amount)), []),
                        ], default);
                        if (result == PostResult.Posted)
                        {
                            openHolds.Add((id, index == 0 ? Accounts.Allowance("org", payer) : Accounts.Credits(payer), amount));
                        }
                        break;
                    case Op.Capture or Op.Release when openHolds.Count > 0:
                        var hold = openHolds[amount % openHolds.Count];
                        openHolds.Remove(hold);
                        if (op == Op.Capture)
                        {
                            var captured = await ledger.CaptureHoldAsync(hold.Id, LedgerEntry.Transfer($"{hold.Id}:end", "capture", Accounts.Hold(hold.Id), Accounts.Earnings("provider"), Usd.FromMicros(hold.Amount)), default);
                            if (captured != PostResult.Posted)
                            {
                                return false; // a hold placed is always capturable
                            }
                        }
                        else
                        {
                            await ledger.ReleaseHoldAsync(hold.Id, LedgerEntry.Transfer($"{hold.Id}:end", "release", Accounts.Hold(hold.Id), hold.Source, Usd.FromMicros(hold.Amount)), [], default);
                        }
                        break;
                    case Op.Spend:
                        // Straight from the balance, beside the holds: it may take only what they do not hold.
                        await ledger.PostAsync(LedgerEntry.Transfer($"s{n}", "refund", Accounts.Credits(payer), Accounts.CardClearing, Usd.FromMicros(amount)), [], default);
                        break;
                    case Op.Reset:
                        // Monthly reset: unspent allowance back to the pool, a fresh grant out of it (funded by card first).
                        var allowance = Accounts.Allowance("org", payer);
                        var left = await ledger.BalanceAsync(allowance, default);
                        if (left.IsPositive)
                        {
                            await ledger.PostAsync(LedgerEntry.Transfer($"r{n}:back", "reset", allowance, Accounts.Pool("org"), left), [], default);
                        }
                        await ledger.PostAsync(LedgerEntry.Transfer($"r{n}:fund", "pool-topup", Accounts.CardClearing, Accounts.Pool("org"), Usd.FromMicros(amount)), [], default);
                        await ledger.PostAsync(LedgerEntry.Transfer($"r{n}:grant", "reset", Accounts.Pool("org"), allowance, Usd.FromMicros(amount)), [], default);
                        break;
                }
            }
            return await InvariantsHoldAsync(ledger);
        }
    }

    private static async Task<bool> InvariantsHoldAsync(ILedger ledger)
    {
        if (await ledger.TotalAsync(default) != Usd.Zero)
        {
            return false;
        }
        foreach (var (account, balance, posted) in await ledger.TrialBalanceAsync(default))
        {
            if (balance != posted || (!Accounts.IsClearing(account) && balance.IsNegative))
            {
                return false;
            }
        }
        return true;
    }
}

public sealed class SqliteLedgerPropertyTests : LedgerPropertyContract
{
    protected override int Cases => 40;

    protected override Task<ILedger> CreateAsync() => Task.FromResult<ILedger>(
        new SqliteLedger(new SqliteDatabase(Path.Combine(Path.GetTempPath(), "x402-prop-" + Guid.NewGuid().ToString("N"), "x402.db")), new FakeTimeProvider(DateTimeOffset.UnixEpoch)));
}

public sealed class TableLedgerPropertyTests(AzuriteFixture azurite) : LedgerPropertyContract, IClassFixture<AzuriteFixture>
{
    protected override int Cases => 12;

    protected override async Task<ILedger> CreateAsync()
    {
        var ledger = new TableLedger(azurite.Tables, new FakeTimeProvider(DateTimeOffset.UnixEpoch),
            AzuriteFixture.UniqueTable("entries"), AzuriteFixture.UniqueTable("accounts"), AzuriteFixture.UniqueTable("caps"));
        await ledger.InitializeAsync(default);
        return ledger;
    }
}
