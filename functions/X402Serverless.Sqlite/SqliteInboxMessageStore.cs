using X402Serverless.Core.Inbox;
using X402Serverless.Core.Ports;

namespace X402Serverless.Sqlite;

/// <summary>Inbox messages: the document plus the status, version (attempts) and due time the conditional writes and the due scan use.</summary>
public sealed class SqliteInboxMessageStore(SqliteDatabase database) : IInboxMessageStore
{
    public async Task AddAsync(InboxMessage message, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO inbox_messages (id, link_id, status, attempts, next_attempt_at, message)
            VALUES ($id, $link, $status, $attempts, $next, $message);
            """;
        Bind(command, message);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<InboxMessage?> GetAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT message FROM inbox_messages WHERE id = $id;";
        command.Parameters.AddWithValue("$id", id);
        return await command.ExecuteScalarAsync(cancellationToken) is string json ? InboxMessageJson.Read(json) : null;
    }

    public async Task<bool> TryUpdateAsync(InboxMessage updated, string expectedStatus, int expectedAttempts, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            UPDATE inbox_messages SET status = $status, attempts = $attempts, next_attempt_at = $next, message = $message
            WHERE id = $id AND status = $expectedStatus AND attempts = $expectedAttempts;
            """;
        Bind(command, updated);
        command.Parameters.AddWithValue("$expectedStatus", expectedStatus);
        command.Parameters.AddWithValue("$expectedAttempts", expectedAttempts);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<IReadOnlyList<InboxMessage>> DueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT message FROM inbox_messages
            WHERE status IN ('queued', 'sending') AND next_attempt_at <= $now
            ORDER BY next_attempt_at LIMIT $max;
            """;
        command.Parameters.AddWithValue("$now", SqliteText.Time(now));
        command.Parameters.AddWithValue("$max", max);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var due = new List<InboxMessage>();
        while (await reader.ReadAsync(cancellationToken))
        {
            due.Add(InboxMessageJson.Read(reader.GetString(0)));
        }
        return due;
    }

    public async Task DeleteHeldAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM inbox_messages WHERE id = $id AND status = 'held';";
        command.Parameters.AddWithValue("$id", id);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static void Bind(Microsoft.Data.Sqlite.SqliteCommand command, InboxMessage message)
    {
        command.Parameters.AddWithValue("$id", message.Id);
        command.Parameters.AddWithValue("$link", message.LinkId);
        command.Parameters.AddWithValue("$status", message.Status);
        command.Parameters.AddWithValue("$attempts", message.Attempts);
        command.Parameters.AddWithValue("$next", SqliteText.Time(message.NextAttemptAt));
        command.Parameters.AddWithValue("$message", InboxMessageJson.Write(message));
    }
}
