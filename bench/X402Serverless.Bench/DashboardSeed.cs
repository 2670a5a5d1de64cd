using System.Globalization;
using Microsoft.Data.Sqlite;

namespace X402Serverless.Bench;

/// <summary>
/// Seeds a running SQLite gateway's database with settled x402 payments in bulk (one transaction, one prepared
/// statement: a million rows in seconds) and adds the same payments to the daily usage counters the paid path keeps
/// (paid, revenue, per payer), so the dashboard's figures stay consistent with the payments behind them. Payments
/// are spread over the last 90 days and 10 wallets, day first (payment i is on day i % 90 from wallet (i / 90) % 10),
/// so the first 900 already use every (day, wallet) counter: a larger seed adds payments, not counter rows, and the
/// dashboard's time can be compared across sizes. Payment i is the same whatever batch writes it.
/// </summary>
internal static class DashboardSeed
{
    private const int Days = 90;
    private const int Wallets = 10;
    private const long Amount = 1_000; // $0.001 in USDC's six decimals

    public static void Run(string databasePath, string organisationId, string linkId, string payTo, int from, int count)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath, DefaultTimeout = 60 }.ToString());
        connection.Open();
        using (var pragma = connection.CreateCommand())
        {
            // A bench database: durability of the seed itself does not matter, speed does.
            pragma.CommandText = "PRAGMA busy_timeout = 60000; PRAGMA synchronous = OFF; PRAGMA cache_size = -262144;";
            pragma.ExecuteNonQuery();
        }
        // Committed every 50,000 rows, so the running gateway's own writer (usage flushes, jobs) gets its turns.
        var transaction = connection.BeginTransaction();
        using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = """
            INSERT INTO payments (id, link_id, organisation_id, network, asset, payer, pay_to, nonce, amount, x402_version, status, tx_hash, created_at, updated_at, mode, facilitator)
            VALUES ($id, $link, $org, 'eip155:84532', '0x036CbD53842c5426634e7929541eC2318f3dCF7e', $payer, $payTo, $nonce, $amount, 2, 'Settled', $tx, $at, $at, 'sync', 'builtin');
            """;
        var id = insert.Parameters.Add("$id", SqliteType.Text);
        var payer = insert.Parameters.Add("$payer", SqliteType.Text);
        var nonce = insert.Parameters.Add("$nonce", SqliteType.Text);
        var tx = insert.Parameters.Add("$tx", SqliteType.Text);
        var at = insert.Parameters.Add("$at", SqliteType.Text);
        insert.Parameters.AddWithValue("$link", linkId);
        insert.Parameters.AddWithValue("$org", organisationId);
        insert.Parameters.AddWithValue("$payTo", payTo);
        insert.Parameters.AddWithValue("$amount", Amount.ToString(CultureInfo.InvariantCulture));
        insert.Prepare();

        var today = DateTime.UtcNow.Date;
        var counters = new Dictionary<(string Day, string Kind), long>();
        void Count(string day, string kind, long n) => counters[(day, kind)] = counters.GetValueOrDefault((day, kind)) + n;
        for (var i = from; i < from + count; i++)
        {
            var wallet = "0x" + (i / Days % Wallets).ToString("x40", CultureInfo.InvariantCulture);
            var when = today.AddDays(-(i % Days)).AddSeconds(i % 86_000);
            var day = when.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            id.Value = "pay_bench_" + i.ToString("x12", CultureInfo.InvariantCulture);
            payer.Value = wallet;
            nonce.Value = "0x" + i.ToString("x64", CultureInfo.InvariantCulture);
            tx.Value = "0x" + (i + 1).ToString("x64", CultureInfo.InvariantCulture);
            at.Value = new DateTimeOffset(when, TimeSpan.Zero).UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
            insert.ExecuteNonQuery();
            if ((i - from + 1) % 50_000 == 0)
            {
                transaction.Commit();
                transaction.Dispose();
                transaction = connection.BeginTransaction();
                insert.Transaction = transaction;
            }
            // What UsageRecorder.Charged counts for the same call, plus the 402 that preceded it.
            Count(day, "challenged", 1);
            Count(day, "paid", 1);
            Count(day, "paid:x402", 1);
            Count(day, "revenue:x402", Amount);
            Count(day, "payer_calls:w:" + wallet, 1);
            Count(day, "payer_usd:w:" + wallet, Amount);
        }
        using var upsert = connection.CreateCommand();
        upsert.Transaction = transaction;
        upsert.CommandText = """
            INSERT INTO usage_daily (organisation_id, link_id, day, kind, count) VALUES ($org, $link, $day, $kind, $n)
            ON CONFLICT(organisation_id, link_id, day, kind) DO UPDATE SET count = count + excluded.count;
            """;
        upsert.Parameters.AddWithValue("$org", organisationId);
        upsert.Parameters.AddWithValue("$link", linkId);
        var d = upsert.Parameters.Add("$day", SqliteType.Text);
        var k = upsert.Parameters.Add("$kind", SqliteType.Text);
        var n = upsert.Parameters.Add("$n", SqliteType.Integer);
        foreach (var ((day, kind), value) in counters)
        {
            (d.Value, k.Value, n.Value) = (day, kind, value);
            upsert.ExecuteNonQuery();
        }
        transaction.Commit();
        transaction.Dispose();
        Console.WriteLine($"seeded payments {from}..{from + count - 1} and {counters.Count} counters in {started.Elapsed.TotalSeconds:0.0} s");
    }
}
