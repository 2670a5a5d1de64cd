using X402Serverless.Core.Ports;
using X402Serverless.Core.Webhooks;

namespace X402Serverless.Sqlite;

/// <summary>One sender's events in its own table ("stripe_events", "kyc_events"); the primary key is the redelivery guard.</summary>
public sealed class SqliteWebhookInbox(SqliteDatabase database, string source = WebhookSources.Stripe) : IWebhookInbox
{
    // The table name is one of a fixed set, never caller text, so building it into SQL is safe.
    private readonly string table = WebhookSources.All.Contains(source)
        ? source + "_events"
        : throw new ArgumentOutOfRangeException(nameof(source), source, "Unknown webhook source.");

    public async Task<bool> TryAddAsync(string id, string type, string payload, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"INSERT INTO {table} (id, type, payload, received_at) VALUES ($id, $type, $payload, $at) ON CONFLICT(id) DO NOTHING;";
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$type", type);
        command.Parameters.AddWithValue("$payload", payload);
        command.Parameters.AddWithValue("$at", SqliteText.Time(at));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<IReadOnlyList<(string Id, string Payload)>> PendingAsync(int max, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT id, payload FROM {table} WHERE processed_at IS NULL ORDER BY received_at LIMIT $max;";
        command.Parameters.AddWithValue("$max", max);
        await using var r = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<(string, string)>();
        while (await r.ReadAsync(cancellationToken))
        {
            list.Add((r.GetString(0), r.GetString(1)));
        }
        return list;
    }

    public async Task<string?> PayloadAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT payload FROM {table} WHERE id = $id;";
        command.Parameters.AddWithValue("$id", id);
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    public async Task MarkProcessedAsync(string id, string outcome, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"UPDATE {table} SET processed_at = $at, outcome = $outcome WHERE id = $id;";
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$outcome", outcome);
        command.Parameters.AddWithValue("$at", SqliteText.Time(at));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
