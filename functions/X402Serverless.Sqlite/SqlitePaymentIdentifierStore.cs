using Microsoft.Data.Sqlite;
using X402Serverless.Core.Idempotency;
using X402Serverless.Core.Ports;

namespace X402Serverless.Sqlite;

/// <summary>
/// Payment identifiers, one row per (link, payer, id). A claim is an insert, or an update of an expired row still
/// holding the owner it was read with, so SQLite's write lock lets exactly one of concurrent claims win.
/// </summary>
public sealed class SqlitePaymentIdentifierStore(SqliteDatabase database) : IPaymentIdentifierStore
{
    private const string Columns = "link_id, payer, id, fingerprint, payment_id, owner, expires_at, completed, status, headers, body";

    public async Task<IdentifierClaim> ClaimAsync(IdentifiedCall entry, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var call = entry;
        await using var connection = database.Open();
        var found = await ReadAsync(connection, call.LinkId, call.Payer, call.Id, cancellationToken);
        if (found is null)
        {
            var inserted = await ExecuteAsync(connection, $"""
                INSERT INTO payment_identifiers ({Columns}) VALUES ($link, $payer, $id, $fingerprint, $payment, $owner, $expires, 0, NULL, NULL, NULL)
                ON CONFLICT (link_id, payer, id) DO NOTHING;
                """, cancellationToken, Parameters(call));
            return inserted == 1 ? new(true, null) : new(false, await ReadAsync(connection, call.LinkId, call.Payer, call.Id, cancellationToken));
        }
        if (found.ExpiresAt > now)
        {
            return new(false, found);
        }
        var replaced = await ExecuteAsync(connection, """
            UPDATE payment_identifiers SET fingerprint = $fingerprint, payment_id = $payment, owner = $owner, expires_at = $expires,
                completed = 0, status = NULL, headers = NULL, body = NULL
            WHERE link_id = $link AND payer = $payer AND id = $id AND owner = $seen AND expires_at <= $now;
            """, cancellationToken, [.. Parameters(call), ("$seen", found.Owner), ("$now", SqliteText.Time(now))]);
        return replaced == 1 ? new(true, found) : new(false, await ReadAsync(connection, call.LinkId, call.Payer, call.Id, cancellationToken));
    }

    public async Task<bool> CompleteAsync(IdentifiedCall completed, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        var answer = completed.Answer ?? throw new ArgumentException("A completed call carries its answer.", nameof(completed));
        return await ExecuteAsync(connection, """
            UPDATE payment_identifiers SET completed = 1, expires_at = $expires, status = $status, headers = $headers, body = $body
            WHERE link_id = $link AND payer = $payer AND id = $id AND owner = $owner AND completed = 0;
            """, cancellationToken, [.. Parameters(completed), ("$status", answer.Status), ("$headers", answer.Headers),
            ("$body", (object?)answer.Body ?? DBNull.Value)]) == 1;
    }

    public async Task AbandonAsync(string linkId, string payer, string id, string owner, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await ExecuteAsync(connection, "DELETE FROM payment_identifiers WHERE link_id = $link AND payer = $payer AND id = $id AND owner = $owner AND completed = 0;",
            cancellationToken, ("$link", linkId), ("$payer", payer), ("$id", id), ("$owner", owner));
    }

    public async Task<IdentifiedCall?> GetAsync(string linkId, string payer, string id, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        return await ReadAsync(connection, linkId, payer, id, cancellationToken);
    }

    public async Task<int> DeleteExpiredAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        return await ExecuteAsync(connection, """
            DELETE FROM payment_identifiers WHERE rowid IN
                (SELECT rowid FROM payment_identifiers WHERE expires_at <= $now ORDER BY expires_at LIMIT $max);
            """, cancellationToken, ("$now", SqliteText.Time(now)), ("$max", max));
    }

    private static (string, object)[] Parameters(IdentifiedCall call) =>
    [
        ("$link", call.LinkId), ("$payer", call.Payer), ("$id", call.Id), ("$fingerprint", call.Fingerprint),
        ("$payment", call.PaymentId), ("$owner", call.Owner), ("$expires", SqliteText.Time(call.ExpiresAt)),
    ];

    private static async Task<IdentifiedCall?> ReadAsync(SqliteConnection connection, string linkId, string payer, string id, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM payment_identifiers WHERE link_id = $link AND payer = $payer AND id = $id;";
        command.Parameters.AddWithValue("$link", linkId);
        command.Parameters.AddWithValue("$payer", payer);
        command.Parameters.AddWithValue("$id", id);
        await using var r = await command.ExecuteReaderAsync(cancellationToken);
        if (!await r.ReadAsync(cancellationToken))
        {
            return null;
        }
        var completed = r.GetInt64(7) == 1;
        return new IdentifiedCall
        {
            LinkId = r.GetString(0),
            Payer = r.GetString(1),
            Id = r.GetString(2),
            Fingerprint = r.GetString(3),
            PaymentId = r.GetString(4),
            Owner = r.GetString(5),
            ExpiresAt = SqliteText.Time(r.GetString(6)),
            Completed = completed,
            Answer = completed ? new RecordedAnswer(r.GetInt32(8), r.GetString(9), r.IsDBNull(10) ? null : (byte[])r.GetValue(10)) : null,
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
