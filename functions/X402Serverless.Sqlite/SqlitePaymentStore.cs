using Microsoft.Data.Sqlite;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Money;

namespace X402Serverless.Sqlite;

public sealed class SqlitePaymentStore(SqliteDatabase database) : IPaymentStore
{
    private const string Columns = """
        id, link_id, organisation_id, network, asset, payer, pay_to, nonce, amount, x402_version, status, tx_hash,
        failure_reason, created_at, updated_at, mode, facilitator, settle_request, valid_before, attempts, next_attempt_at, last_error, content_owed
        """;

    public async Task<bool> TryReserveAsync(PaymentRecord payment, CancellationToken cancellationToken)
    {
        // The primary key is derived from (chain, asset, payer, nonce): the insert either wins or the payment exists.
        return await ExecuteAsync("""
            INSERT INTO payments (id, link_id, organisation_id, network, asset, payer, pay_to, nonce, amount, x402_version, status,
                                  created_at, updated_at, mode, facilitator, settle_request, valid_before)
            VALUES ($id, $link, $org, $network, $asset, $payer, $payTo, $nonce, $amount, $version, 'Reserved',
                    $created, $updated, $mode, $facilitator, $request, $validBefore)
            ON CONFLICT(id) DO NOTHING;
            """, c =>
        {
            c.Parameters.AddWithValue("$id", payment.Id);
            c.Parameters.AddWithValue("$link", payment.LinkId);
            c.Parameters.AddWithValue("$org", payment.OrganisationId);
            c.Parameters.AddWithValue("$network", payment.Network);
            c.Parameters.AddWithValue("$asset", payment.Asset);
            c.Parameters.AddWithValue("$payer", payment.Payer);
            c.Parameters.AddWithValue("$payTo", payment.PayTo);
            c.Parameters.AddWithValue("$nonce", payment.Nonce);
            c.Parameters.AddWithValue("$amount", payment.Amount.ToString());
            c.Parameters.AddWithValue("$version", payment.X402Version);
            c.Parameters.AddWithValue("$created", SqliteText.Time(payment.CreatedAt));
            c.Parameters.AddWithValue("$updated", SqliteText.Time(payment.UpdatedAt));
            c.Parameters.AddWithValue("$mode", payment.Mode);
            c.Parameters.AddWithValue("$facilitator", payment.Facilitator);
            c.Parameters.AddWithValue("$request", (object?)payment.SettleRequest ?? DBNull.Value);
            c.Parameters.AddWithValue("$validBefore", payment.ValidBefore);
        }, cancellationToken) == 1;
    }

    public async Task<PaymentRecord?> GetAsync(string id, CancellationToken cancellationToken)
    {
        var found = await QueryAsync($"SELECT {Columns} FROM payments WHERE id = $id;", c => c.Parameters.AddWithValue("$id", id), cancellationToken);
        return found.Count == 0 ? null : found[0];
    }

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

    public async Task<IReadOnlyList<PaymentRecord>> ClaimDueAsync(DateTimeOffset now, DateTimeOffset leaseUntil, int max, CancellationToken cancellationToken) =>
        await QueryAsync($"""
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

    public async Task<IReadOnlyList<PaymentRecord>> ListAsync(string organisationId, PaymentQuery query, CancellationToken cancellationToken) =>
        await QueryAsync($"""
            SELECT {Columns} FROM payments
            WHERE organisation_id = $org
              AND ($status IS NULL OR status = $status)
              AND ($link IS NULL OR link_id = $link)
              AND ($before IS NULL OR created_at < $before)
            ORDER BY created_at DESC, id LIMIT $limit;
            """, c =>
        {
            c.Parameters.AddWithValue("$org", organisationId);
            c.Parameters.AddWithValue("$status", (object?)query.Status?.ToString() ?? DBNull.Value);
            c.Parameters.AddWithValue("$link", (object?)query.LinkId ?? DBNull.Value);
            c.Parameters.AddWithValue("$before", query.Before is { } b ? SqliteText.Time(b) : DBNull.Value);
            c.Parameters.AddWithValue("$limit", Math.Clamp(query.Limit, 1, 500));
        }, cancellationToken);

    // Amounts are TEXT of any size, so SQLite's 64-bit SUM could overflow: the rows are summed exactly here.
    public async Task<IReadOnlyList<PaymentTotals>> TotalsByLinkAsync(string organisationId, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT link_id, network, status, amount FROM payments WHERE organisation_id = $org;";
        command.Parameters.AddWithValue("$org", organisationId);
        await using var r = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<(string, string, PaymentStatus, TokenAmount)>();
        while (await r.ReadAsync(cancellationToken))
        {
            rows.Add((r.GetString(0), r.GetString(1), Enum.Parse<PaymentStatus>(r.GetString(2)), TokenAmount.Parse(r.GetString(3))));
        }
        return PaymentTotals.Aggregate(rows);
    }

    public async Task<IReadOnlyList<PaymentRecord>> ListByLinkPrefixAsync(string prefix, PaymentStatus status, int max, CancellationToken cancellationToken) =>
        await QueryAsync($"SELECT {Columns} FROM payments WHERE link_id >= $from AND link_id < $to AND status = $status ORDER BY updated_at DESC LIMIT $max;", c =>
        {
            c.Parameters.AddWithValue("$from", prefix);
            c.Parameters.AddWithValue("$to", prefix + "\uffff");
            c.Parameters.AddWithValue("$status", status.ToString());
            c.Parameters.AddWithValue("$max", max);
        }, cancellationToken);

    public async Task<PayerHistory> GetPayerHistoryAsync(string payer, string organisationId, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT EXISTS(SELECT 1 FROM payments WHERE payer = $payer AND status = 'Settled' AND organisation_id = $org),
                   EXISTS(SELECT 1 FROM payments WHERE payer = $payer AND mode = 'deferred' AND status IN ('Failed', 'Expired')),
                   (SELECT COUNT(*) FROM (SELECT 1 FROM payments WHERE payer = $payer AND mode = 'deferred' AND status IN {PaymentTransitions.SqlList(PaymentTransitions.Live)} LIMIT $countCap));
            """;
        command.Parameters.AddWithValue("$payer", payer);
        command.Parameters.AddWithValue("$org", organisationId);
        // The hot path only needs to know whether a wallet is under its bound: counting stops there.
        command.Parameters.AddWithValue("$countCap", PayerHistory.InFlightCountCap);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new PayerHistory(reader.GetInt64(0) == 1, reader.GetInt64(1) == 1, reader.GetInt32(2));
    }

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

    private async Task<int> ExecuteAsync(string sql, Action<SqliteCommand> bind, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        bind(command);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<List<PaymentRecord>> QueryAsync(string sql, Action<SqliteCommand> bind, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        bind(command);
        await using var r = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<PaymentRecord>();
        while (await r.ReadAsync(cancellationToken))
        {
            list.Add(new PaymentRecord
            {
                Id = r.GetString(0),
                LinkId = r.GetString(1),
                OrganisationId = r.GetString(2),
                Network = r.GetString(3),
                Asset = r.GetString(4),
                Payer = r.GetString(5),
                PayTo = r.GetString(6),
                Nonce = r.GetString(7),
                Amount = TokenAmount.Parse(r.GetString(8)),
                X402Version = r.GetInt32(9),
                Status = Enum.Parse<PaymentStatus>(r.GetString(10)),
                Transaction = r.IsDBNull(11) ? null : r.GetString(11),
                FailureReason = r.IsDBNull(12) ? null : r.GetString(12),
                CreatedAt = SqliteText.Time(r.GetString(13)),
                UpdatedAt = SqliteText.Time(r.GetString(14)),
                Mode = r.GetString(15),
                Facilitator = r.GetString(16),
                SettleRequest = r.IsDBNull(17) ? null : r.GetString(17),
                ValidBefore = r.GetInt64(18),
                Attempts = r.GetInt32(19),
                NextAttemptAt = r.IsDBNull(20) ? null : SqliteText.Time(r.GetString(20)),
                LastError = r.IsDBNull(21) ? null : r.GetString(21),
                ContentOwed = r.GetInt64(22) == 1,
            });
        }
        return list;
    }
}
