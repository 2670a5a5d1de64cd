using X402Serverless.Core.Payments;

namespace X402Serverless.Sqlite;

// State changes. Each UPDATE (or DELETE) carries the Core state machine's allowed source states in its WHERE clause,
// so the check and the change are one statement and a payment that has moved on is left alone.
public sealed partial class SqlitePaymentStore
{
    public async Task<bool> AdvanceAsync(string id, PaymentStatus target, DateTimeOffset at, CancellationToken cancellationToken)
    {
        PaymentTransitions.Advance.EnsureLeadsTo(target);
        return await ExecuteAsync($"""
            UPDATE payments SET status = $to, updated_at = $at, next_attempt_at = $at, lease_until = NULL
            WHERE id = $id AND status IN {PaymentTransitions.Advance.SqlFromList()};
            """, c =>
        {
            c.Parameters.AddWithValue("$id", id);
            c.Parameters.AddWithValue("$to", target.ToString());
            c.Parameters.AddWithValue("$at", SqliteText.Time(at));
        }, cancellationToken) == 1;
    }

    public Task RecordSubmittedAsync(string id, string transaction, DateTimeOffset at, CancellationToken cancellationToken) =>
        ExecuteAsync($"UPDATE payments SET tx_hash = $tx, updated_at = $at WHERE id = $id AND status IN {PaymentTransitions.RecordSubmitted.SqlFromList()};", c =>
        {
            c.Parameters.AddWithValue("$id", id);
            c.Parameters.AddWithValue("$tx", transaction);
            c.Parameters.AddWithValue("$at", SqliteText.Time(at));
        }, cancellationToken);

    public async Task<bool> TrySetContentOwedAsync(string id, bool owed, CancellationToken cancellationToken) =>
        await ExecuteAsync("UPDATE payments SET content_owed = $owed WHERE id = $id AND content_owed = $was;", c =>
        {
            c.Parameters.AddWithValue("$id", id);
            c.Parameters.AddWithValue("$owed", owed ? 1 : 0);
            c.Parameters.AddWithValue("$was", owed ? 0 : 1);
        }, cancellationToken) == 1;

    public Task MarkSettledAsync(string id, string transaction, DateTimeOffset at, CancellationToken cancellationToken) =>
        EndAsync(id, PaymentTransitions.Settle, PaymentStatus.Settled, transaction, null, at, cancellationToken);

    public Task MarkFailedAsync(string id, string reason, DateTimeOffset at, CancellationToken cancellationToken) =>
        EndAsync(id, PaymentTransitions.Fail, PaymentStatus.Failed, null, reason, at, cancellationToken);

    public Task MarkExpiredAsync(string id, DateTimeOffset at, CancellationToken cancellationToken) =>
        EndAsync(id, PaymentTransitions.Expire, PaymentStatus.Expired, null, "authorization_expired", at, cancellationToken);

    public Task ScheduleRetryAsync(string id, int attempts, DateTimeOffset nextAttemptAt, string lastError, DateTimeOffset at, CancellationToken cancellationToken) =>
        ExecuteAsync($"""
            UPDATE payments SET status = 'Pending', attempts = $attempts, next_attempt_at = $next, last_error = $error, lease_until = NULL, updated_at = $at
            WHERE id = $id AND status IN {PaymentTransitions.Retry.SqlFromList()};
            """, c =>
        {
            c.Parameters.AddWithValue("$id", id);
            c.Parameters.AddWithValue("$attempts", attempts);
            c.Parameters.AddWithValue("$next", SqliteText.Time(nextAttemptAt));
            c.Parameters.AddWithValue("$error", lastError);
            c.Parameters.AddWithValue("$at", SqliteText.Time(at));
        }, cancellationToken);

    public Task ReleaseAsync(string id, CancellationToken cancellationToken) =>
        ExecuteAsync($"DELETE FROM payments WHERE id = $id AND status IN {PaymentTransitions.Release.SqlFromList()} AND (status = 'Reserved' OR tx_hash IS NULL);",
            c => c.Parameters.AddWithValue("$id", id), cancellationToken);

    // Terminal states are reached only from a live one: a settled payment is final.
    private Task<int> EndAsync(string id, PaymentTransition transition, PaymentStatus status, string? tx, string? reason, DateTimeOffset at, CancellationToken cancellationToken) =>
        ExecuteAsync($"""
            UPDATE payments SET status = $status, tx_hash = COALESCE($tx, tx_hash), failure_reason = $reason, lease_until = NULL, updated_at = $at
            WHERE id = $id AND status IN {transition.SqlFromList()};
            """, c =>
        {
            c.Parameters.AddWithValue("$id", id);
            c.Parameters.AddWithValue("$status", status.ToString());
            c.Parameters.AddWithValue("$tx", (object?)tx ?? DBNull.Value);
            c.Parameters.AddWithValue("$reason", (object?)reason ?? DBNull.Value);
            c.Parameters.AddWithValue("$at", SqliteText.Time(at));
        }, cancellationToken);
}
