namespace X402Serverless.Sqlite;

/// <summary>
/// A card checkout's "paid" mark (paid_checkouts, by Stripe session) and the sweep's delete, each one statement: the mark
/// is written only while the checkout's row exists, and the row is deleted only while no mark exists, so a payment marked
/// while the sweep runs keeps the record, and a record forgotten first can no longer be marked (nor credited).
/// </summary>
internal static class SqliteCheckoutMarks
{
    /// <param name="table">card_topups or pass_checkouts (a constant of ours, never input).</param>
    public static async Task<bool> MarkPaidAsync(SqliteDatabase database, string table, string sessionId, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var mark = connection.CreateCommand();
        mark.CommandText = $"INSERT OR IGNORE INTO paid_checkouts (session_id) SELECT session_id FROM {table} WHERE session_id = $session;";
        mark.Parameters.AddWithValue("$session", sessionId);
        await mark.ExecuteNonQueryAsync(cancellationToken);
        // Marked now or before: either way the row cannot have been deleted since (the delete needs no mark).
        await using var exists = connection.CreateCommand();
        exists.CommandText = $"SELECT EXISTS (SELECT 1 FROM {table} WHERE session_id = $session);";
        exists.Parameters.AddWithValue("$session", sessionId);
        return (long)(await exists.ExecuteScalarAsync(cancellationToken))! == 1;
    }

    public static async Task<bool> DeleteUnpaidAsync(SqliteDatabase database, string table, string sessionId, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"DELETE FROM {table} WHERE session_id = $session AND NOT EXISTS (SELECT 1 FROM paid_checkouts WHERE session_id = $session);";
        command.Parameters.AddWithValue("$session", sessionId);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }
}
