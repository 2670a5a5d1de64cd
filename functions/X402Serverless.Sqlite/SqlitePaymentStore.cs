using Microsoft.Data.Sqlite;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;
using static X402Serverless.Sqlite.SqlitePaymentRows;

namespace X402Serverless.Sqlite;

/// <summary>Payments and their settlement jobs in the SQLite payments table.</summary>
/// <remarks>
/// Split by concern: this file reserves and reads one payment and holds the command helpers;
/// SqlitePaymentStore.Transitions moves a payment through the states <see cref="PaymentTransitions"/> allows;
/// SqlitePaymentStore.Jobs leases due settlement jobs; SqlitePaymentStore.Queries lists and totals;
/// <see cref="SqlitePaymentRows"/> maps rows to records.
/// </remarks>
public sealed partial class SqlitePaymentStore(SqliteDatabase database) : IPaymentStore
{
    private const string Insert = """
        INSERT INTO payments (id, link_id, organisation_id, network, asset, payer, pay_to, nonce, amount, x402_version, status,
                              created_at, updated_at, mode, facilitator, settle_request, valid_before, content_owed, purpose)
        VALUES ($id, $link, $org, $network, $asset, $payer, $payTo, $nonce, $amount, $version, 'Reserved',
                $created, $updated, $mode, $facilitator, $request, $validBefore, $owed, $purpose)
        ON CONFLICT(id) DO NOTHING;
        """;

    // The same row, inserted only while the payer's live deferred payments (counted up to the bound) are fewer than it.
    // One statement on the one writer: no other write runs between the count and the insert. (An upsert's SELECT needs
    // a WHERE, which this one has.)
    private static readonly string InsertWithinBound = $"""
        INSERT INTO payments (id, link_id, organisation_id, network, asset, payer, pay_to, nonce, amount, x402_version, status,
                              created_at, updated_at, mode, facilitator, settle_request, valid_before, content_owed, purpose)
        SELECT $id, $link, $org, $network, $asset, $payer, $payTo, $nonce, $amount, $version, 'Reserved',
               $created, $updated, $mode, $facilitator, $request, $validBefore, $owed, $purpose
        WHERE (SELECT COUNT(*) FROM (SELECT 1 FROM payments
                                     WHERE payer = $payer AND mode = 'deferred' AND status IN {PaymentTransitions.SqlList(PaymentTransitions.Live)}
                                     LIMIT $bound)) < $bound
        ON CONFLICT(id) DO NOTHING;
        """;

    public async Task<bool> TryReserveAsync(PaymentRecord payment, CancellationToken cancellationToken)
    {
        // The primary key is derived from (chain, asset, payer, nonce): the insert either wins or the payment exists.
        return await ExecuteAsync(Insert, c => Bind(c, payment), cancellationToken) == 1;
    }

    public Task<string?> TryReserveDeferredAsync(PaymentRecord payment, int maxInFlight, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxInFlight, 1);
        var deferred = payment with { Mode = SettlementModes.Deferred };
        var sync = payment with { Mode = SettlementModes.Sync };
        return database.Writes.WriteAsync<string?>(write =>
        {
            var within = write.Command(InsertWithinBound);
            Bind(within, deferred);
            within.Parameters.AddWithValue("$bound", maxInFlight);
            if (within.ExecuteNonQuery() == 1)
            {
                return SettlementModes.Deferred;
            }
            // At the bound, or the id exists: the plain insert tells which (it loses to an existing row too).
            var plain = write.Command(Insert);
            Bind(plain, sync);
            return plain.ExecuteNonQuery() == 1 ? SettlementModes.Sync : (string?)null;
        }, cancellationToken);
    }

    private static void Bind(SqliteCommand c, PaymentRecord payment)
    {
        c.Parameters.AddWithValue("$id", payment.Id);
        c.Parameters.AddWithValue("$link", payment.LinkId);
        c.Parameters.AddWithValue("$org", payment.OrganisationId);
        c.Parameters.AddWithValue("$network", payment.Network);
        c.Parameters.AddWithValue("$asset", payment.Asset);
        c.Parameters.AddWithValue("$payer", payment.Payer);
        c.Parameters.AddWithValue("$payTo", payment.PayTo);
        c.Parameters.AddWithValue("$nonce", payment.Nonce);
        c.Parameters.AddWithValue("$owed", payment.ContentOwed ? 1 : 0);
        c.Parameters.AddWithValue("$purpose", payment.Purpose);
        c.Parameters.AddWithValue("$amount", payment.Amount.ToString());
        c.Parameters.AddWithValue("$version", payment.X402Version);
        c.Parameters.AddWithValue("$created", SqliteText.Time(payment.CreatedAt));
        c.Parameters.AddWithValue("$updated", SqliteText.Time(payment.UpdatedAt));
        c.Parameters.AddWithValue("$mode", payment.Mode);
        c.Parameters.AddWithValue("$facilitator", payment.Facilitator);
        c.Parameters.AddWithValue("$request", (object?)payment.SettleRequest ?? DBNull.Value);
        c.Parameters.AddWithValue("$validBefore", payment.ValidBefore);
    }

    public async Task<PaymentRecord?> GetAsync(string id, CancellationToken cancellationToken)
    {
        var found = await QueryAsync($"SELECT {Columns} FROM payments WHERE id = $id;", c => c.Parameters.AddWithValue("$id", id), cancellationToken);
        return found.Count == 0 ? null : found[0];
    }

    // Writes go through the database's one group-committing writer (SqliteGroupCommit), as the ledger's do: concurrent
    // calls share a transaction instead of meeting SQLITE_BUSY, and each is answered only once its write is committed.
    private Task<int> ExecuteAsync(string sql, Action<SqliteCommand> bind, CancellationToken cancellationToken) =>
        database.Writes.WriteAsync(write =>
        {
            var command = write.Command(sql);
            bind(command);
            return command.ExecuteNonQuery();
        }, cancellationToken);

    // An UPDATE ... RETURNING: a write, so through the writer too.
    private Task<List<PaymentRecord>> WriteQueryAsync(string sql, Action<SqliteCommand> bind, CancellationToken cancellationToken) =>
        database.Writes.WriteAsync(write =>
        {
            var command = write.Command(sql);
            bind(command);
            using var r = command.ExecuteReader();
            var list = new List<PaymentRecord>();
            while (r.Read())
            {
                list.Add(Read(r));
            }
            return list;
        }, cancellationToken);

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
            list.Add(Read(r));
        }
        return list;
    }
}
