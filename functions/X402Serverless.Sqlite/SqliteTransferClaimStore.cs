using Microsoft.Data.Sqlite;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Transfers;

namespace X402Serverless.Sqlite;

/// <summary>
/// Transaction hashes presented as payments, one row per hash, kept for good once consumed. A claim is an insert, or
/// an update of an unconsumed row whose lease has ended, so SQLite's write lock lets exactly one of concurrent claims win.
/// </summary>
public sealed class SqliteTransferClaimStore(SqliteDatabase database) : ITransferClaimStore
{
    public async Task<TransferClaimOutcome> ClaimAsync(TransferClaim claim, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        // One statement: insert a new row, or take over an unconsumed one whose lease ended; a row held or consumed is left alone.
        var won = await ExecuteAsync(connection, """
            INSERT INTO transfer_claims (tx_hash, owner, link_id, lease_until, consumed, payment_id) VALUES ($hash, $owner, $link, $lease, 0, NULL)
            ON CONFLICT (tx_hash) DO UPDATE SET owner = excluded.owner, link_id = excluded.link_id, lease_until = excluded.lease_until
            WHERE transfer_claims.consumed = 0 AND transfer_claims.lease_until <= $now;
            """, cancellationToken, ("$hash", claim.TxHash), ("$owner", claim.Owner), ("$link", claim.LinkId),
            ("$lease", SqliteText.Time(claim.LeaseUntil)), ("$now", SqliteText.Time(now)));
        if (won == 1)
        {
            return TransferClaimOutcome.Claimed;
        }
        return (await ReadAsync(connection, claim.TxHash, cancellationToken))?.Consumed == true ? TransferClaimOutcome.Consumed : TransferClaimOutcome.Held;
    }

    public async Task<bool> ConsumeAsync(string txHash, string owner, string paymentId, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        return await ExecuteAsync(connection, """
            UPDATE transfer_claims SET consumed = 1, payment_id = $payment WHERE tx_hash = $hash AND owner = $owner AND consumed = 0;
            """, cancellationToken, ("$hash", txHash), ("$owner", owner), ("$payment", paymentId)) == 1;
    }

    public async Task ReleaseAsync(string txHash, string owner, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await ExecuteAsync(connection, "DELETE FROM transfer_claims WHERE tx_hash = $hash AND owner = $owner AND consumed = 0;",
            cancellationToken, ("$hash", txHash), ("$owner", owner));
    }

    public async Task<TransferClaim?> GetAsync(string txHash, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        return await ReadAsync(connection, txHash, cancellationToken);
    }

    private static async Task<TransferClaim?> ReadAsync(SqliteConnection connection, string txHash, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT tx_hash, owner, link_id, lease_until, consumed, payment_id FROM transfer_claims WHERE tx_hash = $hash;";
        command.Parameters.AddWithValue("$hash", txHash);
        await using var r = await command.ExecuteReaderAsync(cancellationToken);
        if (!await r.ReadAsync(cancellationToken))
        {
            return null;
        }
        return new TransferClaim
        {
            TxHash = r.GetString(0),
            Owner = r.GetString(1),
            LinkId = r.GetString(2),
            LeaseUntil = SqliteText.Time(r.GetString(3)),
            Consumed = r.GetInt64(4) == 1,
            PaymentId = r.IsDBNull(5) ? null : r.GetString(5),
        };
    }

    private static async Task<int> ExecuteAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
