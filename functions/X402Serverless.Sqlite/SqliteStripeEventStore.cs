using X402Serverless.Core.Ports;

namespace X402Serverless.Sqlite;

public sealed class SqliteStripeEventStore(SqliteDatabase database) : IStripeEventStore
{
    public async Task<bool> TryAddAsync(string id, string type, string payload, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO stripe_events (id, type, payload, received_at) VALUES ($id, $type, $payload, $at) ON CONFLICT(id) DO NOTHING;";
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
        command.CommandText = "SELECT id, payload FROM stripe_events WHERE processed_at IS NULL ORDER BY received_at LIMIT $max;";
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
        command.CommandText = "SELECT payload FROM stripe_events WHERE id = $id;";
        command.Parameters.AddWithValue("$id", id);
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    public async Task MarkProcessedAsync(string id, string outcome, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE stripe_events SET processed_at = $at, outcome = $outcome WHERE id = $id;";
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$outcome", outcome);
        command.Parameters.AddWithValue("$at", SqliteText.Time(at));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
