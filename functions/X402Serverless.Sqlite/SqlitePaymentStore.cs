using Microsoft.Data.Sqlite;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;

namespace X402Serverless.Sqlite;

public sealed class SqlitePaymentStore(SqliteDatabase database) : IPaymentStore
{
    public async Task<bool> TryReserveAsync(PaymentRecord payment, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        // The primary key is derived from (chain, asset, payer, nonce): the insert either wins or the payment exists.
        command.CommandText = """
            INSERT INTO payments (id, link_id, organisation_id, network, asset, payer, pay_to, nonce, amount, x402_version, status, created_at, updated_at)
            VALUES ($id, $link, $org, $network, $asset, $payer, $payTo, $nonce, $amount, $version, $status, $created, $updated)
            ON CONFLICT(id) DO NOTHING;
            """;
        command.Parameters.AddWithValue("$id", payment.Id);
        command.Parameters.AddWithValue("$link", payment.LinkId);
        command.Parameters.AddWithValue("$org", payment.OrganisationId);
        command.Parameters.AddWithValue("$network", payment.Network);
        command.Parameters.AddWithValue("$asset", payment.Asset);
        command.Parameters.AddWithValue("$payer", payment.Payer);
        command.Parameters.AddWithValue("$payTo", payment.PayTo);
        command.Parameters.AddWithValue("$nonce", payment.Nonce);
        command.Parameters.AddWithValue("$amount", payment.Amount);
        command.Parameters.AddWithValue("$version", payment.X402Version);
        command.Parameters.AddWithValue("$status", payment.Status.ToString());
        command.Parameters.AddWithValue("$created", SqliteText.Time(payment.CreatedAt));
        command.Parameters.AddWithValue("$updated", SqliteText.Time(payment.UpdatedAt));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<PaymentRecord?> GetAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT id, link_id, organisation_id, network, asset, payer, pay_to, nonce, amount, x402_version, status, tx_hash,
                   failure_reason, created_at, updated_at
            FROM payments WHERE id = $id;
            """;
        command.Parameters.AddWithValue("$id", id);
        await using var r = await command.ExecuteReaderAsync(cancellationToken);
        if (!await r.ReadAsync(cancellationToken))
        {
            return null;
        }
        return new PaymentRecord
        {
            Id = r.GetString(0),
            LinkId = r.GetString(1),
            OrganisationId = r.GetString(2),
            Network = r.GetString(3),
            Asset = r.GetString(4),
            Payer = r.GetString(5),
            PayTo = r.GetString(6),
            Nonce = r.GetString(7),
            Amount = r.GetString(8),
            X402Version = r.GetInt32(9),
            Status = Enum.Parse<PaymentStatus>(r.GetString(10)),
            Transaction = r.IsDBNull(11) ? null : r.GetString(11),
            FailureReason = r.IsDBNull(12) ? null : r.GetString(12),
            CreatedAt = SqliteText.Time(r.GetString(13)),
            UpdatedAt = SqliteText.Time(r.GetString(14)),
        };
    }

    public Task MarkSettledAsync(string id, string transaction, DateTimeOffset at, CancellationToken cancellationToken) =>
        UpdateAsync(id, PaymentStatus.Settled, transaction, null, at, cancellationToken);

    public Task MarkFailedAsync(string id, string reason, DateTimeOffset at, CancellationToken cancellationToken) =>
        UpdateAsync(id, PaymentStatus.Failed, null, reason, at, cancellationToken);

    public async Task ReleaseAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM payments WHERE id = $id AND status = 'Reserved';";
        command.Parameters.AddWithValue("$id", id);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task UpdateAsync(string id, PaymentStatus status, string? tx, string? reason, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        // Only a reserved payment moves on: a settled one is final.
        command.CommandText = "UPDATE payments SET status = $status, tx_hash = $tx, failure_reason = $reason, updated_at = $at WHERE id = $id AND status = 'Reserved';";
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$status", status.ToString());
        command.Parameters.AddWithValue("$tx", (object?)tx ?? DBNull.Value);
        command.Parameters.AddWithValue("$reason", (object?)reason ?? DBNull.Value);
        command.Parameters.AddWithValue("$at", SqliteText.Time(at));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
