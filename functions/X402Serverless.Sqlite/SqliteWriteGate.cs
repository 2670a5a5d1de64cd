using System.Runtime.CompilerServices;

namespace X402Serverless.Sqlite;

/// <summary>
/// One writer at a time per database file, queued in this process. SQLite admits one writer anyway, but a writer that
/// finds the file locked gets SQLITE_BUSY, and Microsoft.Data.Sqlite then blocks its thread in a 150 ms sleep before
/// retrying: under concurrent paid calls that sleep, not the write, was the tail latency. Waiting here instead is
/// asynchronous and ends as soon as the previous write commits. Each write still commits on its own, as before.
/// </summary>
internal static class SqliteWriteGate
{
    private static readonly ConditionalWeakTable<SqliteDatabase, SemaphoreSlim> Gates = new();

    public static async Task<T> RunAsync<T>(SqliteDatabase database, Func<Task<T>> write, CancellationToken cancellationToken)
    {
        var gate = Gates.GetValue(database, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            return await write();
        }
        finally
        {
            gate.Release();
        }
    }
}
