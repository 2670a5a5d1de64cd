using X402Serverless.Core.Money;
using X402Serverless.Core.Payments;
using static X402Serverless.Sqlite.SqlitePaymentRows;

namespace X402Serverless.Sqlite;

// Reads only: listing, per-link totals and a payer's history.
public sealed partial class SqlitePaymentStore
{
    public async Task<IReadOnlyList<PaymentRecord>> ListAsync(string organisationId, PaymentQuery query, CancellationToken cancellationToken) =>
        await QueryAsync($"""
            SELECT {Columns} FROM payments
            WHERE organisation_id = $org
              AND ($status IS NULL OR status = $status)
              AND ($link IS NULL OR link_id = $link)
              AND ($before IS NULL OR created_at < $before)
              AND ($afterAt IS NULL OR created_at < $afterAt OR (created_at = $afterAt AND id > $afterId))
            ORDER BY created_at DESC, id LIMIT $limit;
            """, c =>
        {
            c.Parameters.AddWithValue("$org", organisationId);
            c.Parameters.AddWithValue("$status", (object?)query.Status?.ToString() ?? DBNull.Value);
            c.Parameters.AddWithValue("$link", (object?)query.LinkId ?? DBNull.Value);
            c.Parameters.AddWithValue("$before", query.Before is { } b ? SqliteText.Time(b) : DBNull.Value);
            c.Parameters.AddWithValue("$afterAt", query.After is { } a ? SqliteText.Time(a.CreatedAt) : DBNull.Value);
            c.Parameters.AddWithValue("$afterId", (object?)query.After?.Id ?? DBNull.Value);
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

    public async Task<PayerHistory> GetPayerHistoryAsync(string payer, string organisationId, int inFlightBound, CancellationToken cancellationToken)
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
        // The hot path only needs to know whether a wallet is under its bound: counting stops there, and without a bound
        // it does not start (a wallet's whole backlog was counted on every call, the largest cost of a deferred call then).
        command.Parameters.AddWithValue("$countCap", inFlightBound >= PayerHistory.InFlightCountCap ? 0 : Math.Max(0, inFlightBound));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new PayerHistory(reader.GetInt64(0) == 1, reader.GetInt64(1) == 1, reader.GetInt32(2));
    }
}
