using Microsoft.Data.Sqlite;
using X402Serverless.Core.Access;
using X402Serverless.Core.Ports;

namespace X402Serverless.Sqlite;

/// <summary>The audit log in one table; triggers refuse updates and deletes, so it is append-only below the code too.</summary>
public sealed class SqliteAuditLog(SqliteDatabase database) : IAuditLog
{
    public async Task AppendAsync(AuditEntry entry, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO audit_entries (organisation_id, id, at, actor_kind, actor_id, actor_label, actor_role, action, target_type, target_id,
                before, after, client_address, outcome, status)
            VALUES ($org, $id, $at, $kind, $actor, $label, $role, $action, $type, $target, $before, $after, $client, $outcome, $status);
            """;
        command.Parameters.AddWithValue("$org", entry.OrganisationId);
        command.Parameters.AddWithValue("$id", entry.Id);
        command.Parameters.AddWithValue("$at", SqliteText.Time(entry.At));
        command.Parameters.AddWithValue("$kind", entry.Actor.Kind);
        command.Parameters.AddWithValue("$actor", entry.Actor.Id);
        command.Parameters.AddWithValue("$label", entry.Actor.Label);
        command.Parameters.AddWithValue("$role", (object?)entry.Actor.Role ?? DBNull.Value);
        command.Parameters.AddWithValue("$action", entry.Action);
        command.Parameters.AddWithValue("$type", entry.TargetType);
        command.Parameters.AddWithValue("$target", (object?)entry.TargetId ?? DBNull.Value);
        command.Parameters.AddWithValue("$before", (object?)entry.Before ?? DBNull.Value);
        command.Parameters.AddWithValue("$after", (object?)entry.After ?? DBNull.Value);
        command.Parameters.AddWithValue("$client", (object?)entry.ClientAddress ?? DBNull.Value);
        command.Parameters.AddWithValue("$outcome", entry.Outcome);
        command.Parameters.AddWithValue("$status", entry.Status);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<AuditPage> ListAsync(string organisationId, AuditQuery query, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT organisation_id, id, at, actor_kind, actor_id, actor_label, actor_role, action, target_type, target_id,
                before, after, client_address, outcome, status
            FROM audit_entries
            WHERE organisation_id = $org AND ($after IS NULL OR id > $after) AND ($action IS NULL OR action = $action)
              AND ($type IS NULL OR target_type = $type) AND ($target IS NULL OR target_id = $target)
            ORDER BY id LIMIT $limit;
            """;
        command.Parameters.AddWithValue("$org", organisationId);
        command.Parameters.AddWithValue("$after", (object?)query.After ?? DBNull.Value);
        command.Parameters.AddWithValue("$action", (object?)query.Action ?? DBNull.Value);
        command.Parameters.AddWithValue("$type", (object?)query.TargetType ?? DBNull.Value);
        command.Parameters.AddWithValue("$target", (object?)query.TargetId ?? DBNull.Value);
        // One more than asked tells whether there is a next page.
        command.Parameters.AddWithValue("$limit", query.Limit + 1);
        await using var r = await command.ExecuteReaderAsync(cancellationToken);
        var entries = new List<AuditEntry>();
        while (await r.ReadAsync(cancellationToken))
        {
            entries.Add(new AuditEntry(
                r.GetString(1), r.GetString(0), SqliteText.Time(r.GetString(2)),
                new AuditActor(r.GetString(3), r.GetString(4), r.GetString(5), Opt(r, 6)),
                r.GetString(7), r.GetString(8), Opt(r, 9), Opt(r, 10), Opt(r, 11), Opt(r, 12), r.GetString(13), r.GetInt32(14)));
        }
        return entries.Count > query.Limit
            ? new AuditPage(entries[..query.Limit], entries[query.Limit - 1].Id)
            : new AuditPage(entries, null);
    }

    private static string? Opt(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);
}
