using FsCheck;
using FsCheck.Fluent;
using X402Serverless.Core.Ledger;
using X402Serverless.Sqlite;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Ledger;

/// <summary>
/// For any sequence of top-ups, holds, captures, releases and allowance resets, postings sum to zero, no
/// non-clearing balance is negative, and every cached balance equals the sum of its postings.
/// </summary>
public sealed class LedgerPropertyTests
{
    private static readonly string[] Payers = ["p1", "p2", "p3"];

    private enum Op
    {
        TopUp,
        Hold,
        Capture,
        Release,
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
            .Check(Config.QuickThrowOnFailure.WithMaxTest(40));
    }

    private static async Task<bool> Run((Op Op, string Payer, int Amount)[] steps)
    {
        var directory = Path.Combine(Path.GetTempPath(), "x402-prop-" + Guid.NewGuid().ToString("N"));
        try
        {
            var ledger = new SqliteLedger(new SqliteDatabase(Path.Combine(directory, "x402.db")), new FakeTimeProvider(DateTimeOffset.UnixEpoch));
            var openHolds = new List<(string Id, string Source, long Amount)>();
            var n = 0;
            foreach (var (op, payer, amount) in steps)
            {
                n++;
                switch (op)
                {
                    case Op.TopUp:
                        await ledger.PostAsync(LedgerEntry.Transfer($"top{n}", "topup", Accounts.CardClearing, Accounts.Credits(payer), amount), [], default);
                        break;
                    case Op.Hold:
                        var id = $"h{n}";
                        var (index, result) = await ledger.PostFirstAsync(
                        [
                            (LedgerEntry.Transfer(id, "hold", Accounts.Allowance("org", payer), Accounts.Hold(id), amount), []),
                            (LedgerEntry.Transfer(id, "hold", Accounts.Credits(payer), Accounts.Hold(id), amount), []),
                        ], default);
                        if (result == PostResult.Posted)
                        {
                            openHolds.Add((id, index == 0 ? Accounts.Allowance("org", payer) : Accounts.Credits(payer), amount));
                        }
                        break;
                    case Op.Capture or Op.Release when openHolds.Count > 0:
                        var hold = openHolds[amount % openHolds.Count];
                        openHolds.Remove(hold);
                        var target = op == Op.Capture ? Accounts.Earnings("provider") : hold.Source;
                        await ledger.PostAsync(LedgerEntry.Transfer($"{hold.Id}:end", op.ToString(), Accounts.Hold(hold.Id), target, hold.Amount), [], default);
                        break;
                    case Op.Reset:
                        // Monthly reset: unspent allowance back to the pool, a fresh grant out of it (funded by card first).
                        var allowance = Accounts.Allowance("org", payer);
                        var left = await ledger.BalanceAsync(allowance, default);
                        if (left > 0)
                        {
                            await ledger.PostAsync(LedgerEntry.Transfer($"r{n}:back", "reset", allowance, Accounts.Pool("org"), left), [], default);
                        }
                        await ledger.PostAsync(LedgerEntry.Transfer($"r{n}:fund", "pool-topup", Accounts.CardClearing, Accounts.Pool("org"), amount), [], default);
                        await ledger.PostAsync(LedgerEntry.Transfer($"r{n}:grant", "reset", Accounts.Pool("org"), allowance, amount), [], default);
                        break;
                }
            }
            return await InvariantsHoldAsync(ledger, directory);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task<bool> InvariantsHoldAsync(SqliteLedger ledger, string directory)
    {
        if (await ledger.TotalAsync(default) != 0)
        {
            return false;
        }
        var database = new SqliteDatabase(Path.Combine(directory, "x402.db"));
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT b.account, b.balance, COALESCE((SELECT SUM(amount) FROM ledger_postings p WHERE p.account = b.account), 0)
            FROM ledger_balances b;
            """;
        await using var r = await command.ExecuteReaderAsync();
        while (await r.ReadAsync())
        {
            var account = r.GetString(0);
            var cached = r.GetInt64(1);
            if (cached != r.GetInt64(2) || (!Accounts.IsClearing(account) && cached < 0))
            {
                return false;
            }
        }
        return true;
    }
}
