using X402Serverless.Core.Inbox;
using X402Serverless.Core.Money;
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
            INSERT INTO inbox_messages (id, link_id, status, attempts, next_attempt_at, message, created_at, updated_at, refund_pending)
            VALUES ($id, $link, $status, $attempts, $next, $message, $created, $updated, $refundPending);
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
            UPDATE inbox_messages SET status = $status, attempts = $attempts, next_attempt_at = $next, message = $message,
                updated_at = $updated, refund_pending = $refundPending
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

    public async Task<InboxMessagePage> ListAsync(string linkId, string? after, int limit, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        // The cursor is the last row's "created|id": rows strictly before it in (created_at, id) order come next.
        var (created, id) = after?.Split('|', 2) is [var c, var i] ? (c, i) : ("\uffff", "");
        command.CommandText = """
            SELECT message FROM inbox_messages
            WHERE link_id = $link AND status != 'held' AND (created_at, id) < ($created, $id)
            ORDER BY created_at DESC, id DESC LIMIT $limit;
            """;
        command.Parameters.AddWithValue("$link", linkId);
        command.Parameters.AddWithValue("$created", created);
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$limit", limit + 1);
        var page = await ReadAllAsync(command, cancellationToken);
        if (page.Count <= limit)
        {
            return new InboxMessagePage(page, null);
        }
        page.RemoveAt(limit);
        var last = page[^1];
        return new InboxMessagePage(page, $"{SqliteText.Time(last.CreatedAt)}|{last.Id}");
    }

    public async Task<IReadOnlyList<InboxMessage>> HeldBeforeAsync(DateTimeOffset before, int max, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT message FROM inbox_messages WHERE status = 'held' AND updated_at <= $before ORDER BY updated_at LIMIT $max;
            """;
        command.Parameters.AddWithValue("$before", SqliteText.Time(before));
        command.Parameters.AddWithValue("$max", max);
        return await ReadAllAsync(command, cancellationToken);
    }

    public async Task<IReadOnlyList<InboxMessage>> RefundsDueAsync(DateTimeOffset before, int max, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT message FROM inbox_messages WHERE refund_pending = 1 AND updated_at <= $before ORDER BY updated_at LIMIT $max;
            """;
        command.Parameters.AddWithValue("$before", SqliteText.Time(before));
        command.Parameters.AddWithValue("$max", max);
        return await ReadAllAsync(command, cancellationToken);
    }

    public async Task AddTotalsAsync(string linkId, InboxTotals delta, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO inbox_totals (link_id, messages, paid, refunded, owed) VALUES ($link, $messages, $paid, $refunded, $owed)
            ON CONFLICT (link_id) DO UPDATE SET messages = messages + $messages, paid = paid + $paid,
                refunded = refunded + $refunded, owed = owed + $owed;
            """;
        command.Parameters.AddWithValue("$link", linkId);
        command.Parameters.AddWithValue("$messages", delta.Messages);
        command.Parameters.AddWithValue("$paid", delta.Paid.Micros);
        command.Parameters.AddWithValue("$refunded", delta.Refunded.Micros);
        command.Parameters.AddWithValue("$owed", delta.RefundOwed.Micros);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<InboxTotals> TotalsAsync(string linkId, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT messages, paid, refunded, owed FROM inbox_totals WHERE link_id = $link;";
        command.Parameters.AddWithValue("$link", linkId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new InboxTotals(reader.GetInt64(0), Usd.FromMicros(reader.GetInt64(1)), Usd.FromMicros(reader.GetInt64(2)), Usd.FromMicros(reader.GetInt64(3)))
            : InboxTotals.None;
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
        command.Parameters.AddWithValue("$created", SqliteText.Time(message.CreatedAt));
        command.Parameters.AddWithValue("$updated", SqliteText.Time(message.UpdatedAt));
        command.Parameters.AddWithValue("$refundPending", message.RefundPending ? 1 : 0);
    }

    private static async Task<List<InboxMessage>> ReadAllAsync(Microsoft.Data.Sqlite.SqliteCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var read = new List<InboxMessage>();
        while (await reader.ReadAsync(cancellationToken))
        {
            read.Add(InboxMessageJson.Read(reader.GetString(0)));
        }
        return read;
    }
}
