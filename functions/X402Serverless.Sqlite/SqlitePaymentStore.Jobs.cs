using X402Serverless.Core.Payments;
using static X402Serverless.Sqlite.SqlitePaymentRows;

namespace X402Serverless.Sqlite;

// The settlement job queue: due Pending payments are leased in one UPDATE ... RETURNING, so two workers never hold
// the same job; stale in-flight payments are found for the sweeper.
public sealed partial class SqlitePaymentStore
{
    public async Task<IReadOnlyList<PaymentRecord>> ClaimDueAsync(DateTimeOffset now, DateTimeOffset leaseUntil, int max, CancellationToken cancellationToken) =>
        await WriteQueryAsync($"""
            UPDATE payments SET lease_until = $lease
            WHERE id IN (
                SELECT id FROM payments
                WHERE status = 'Pending' AND next_attempt_at <= $now AND (lease_until IS NULL OR lease_until <= $now)
                ORDER BY next_attempt_at LIMIT $max)
            RETURNING {Columns};
            """, c =>
        {
            c.Parameters.AddWithValue("$now", SqliteText.Time(now));
            c.Parameters.AddWithValue("$lease", SqliteText.Time(leaseUntil));
            c.Parameters.AddWithValue("$max", max);
        }, cancellationToken);

    public Task ReleaseLeasesAsync(CancellationToken cancellationToken) =>
        ExecuteAsync("UPDATE payments SET lease_until = NULL WHERE status = 'Pending' AND lease_until IS NOT NULL;", _ => { }, cancellationToken);

    public async Task<IReadOnlyList<PaymentRecord>> FindStaleAsync(DateTimeOffset before, int max, CancellationToken cancellationToken) =>
        await QueryAsync($"""
            SELECT {Columns} FROM payments WHERE status IN {PaymentTransitions.SqlList(PaymentTransitions.InFlight)} AND updated_at < $before ORDER BY updated_at LIMIT $max;
            """, c =>
        {
            c.Parameters.AddWithValue("$before", SqliteText.Time(before));
            c.Parameters.AddWithValue("$max", max);
        }, cancellationToken);
}
