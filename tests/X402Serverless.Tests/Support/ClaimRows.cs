using X402Serverless.Sqlite;

namespace X402Serverless.Tests.Support;

/// <summary>What a request that died leaves in the SQLite identifier store, written straight into its row.</summary>
internal static class ClaimRows
{
    /// <summary>
    /// The key's entry in flight, its answer unrecorded and its lease run out; with <paramref name="paymentId"/>, naming
    /// that hold (or payment) instead of its own.
    /// </summary>
    public static async Task LeaveAsync(SqliteDatabase database, string key, string? paymentId = null)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE payment_identifiers SET completed = 0, status = NULL, headers = NULL, body = NULL, expires_at = $expires, " +
            "payment_id = COALESCE($paymentId, payment_id) WHERE id = $id;";
        command.Parameters.AddWithValue("$id", key);
        command.Parameters.AddWithValue("$paymentId", (object?)paymentId ?? DBNull.Value);
        command.Parameters.AddWithValue("$expires", DateTimeOffset.UtcNow.AddMinutes(-1).UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }
}
