using Microsoft.Data.Sqlite;

namespace X402Serverless.Sqlite;

/// <summary>
/// One SQLite file for everything the embedded deployment stores. WAL lets reads run beside the single writer;
/// the busy timeout makes concurrent writers queue instead of failing. The hot writes (the ledger's) go through one
/// group-committing writer, <see cref="Writes"/>.
/// </summary>
public sealed class SqliteDatabase : IAsyncDisposable
{
    private readonly string _connectionString;

    // Native connections already set up: a pooled connection comes back configured, so its pragmas are not re-run.
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<SQLitePCL.sqlite3, object> _configured = [];
    private readonly Lazy<SqliteGroupCommit> _writes;

    public SqliteDatabase(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30, // also how long a writer waits for the lock (Microsoft.Data.Sqlite retries SQLITE_BUSY)
            ForeignKeys = true,
        }.ToString();
        using var connection = Open();
        Execute(connection, "PRAGMA journal_mode=WAL;");
        SqliteSchema.Apply(connection);
        _writes = new Lazy<SqliteGroupCommit>(() => new SqliteGroupCommit(Open));
    }

    /// <summary>The group-committing writer (one connection, one transaction per batch of queued writes).</summary>
    public SqliteGroupCommit Writes => _writes.Value;

    /// <summary>The holds of calls in flight (the ledger's), beside the writer that places and ends them.</summary>
    public SqliteHeldMoney Held { get; } = new();

    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        if (!_configured.TryGetValue(connection.Handle!, out _))
        {
            // WAL with synchronous=NORMAL: no fsync per commit. A process crash loses nothing; power loss may roll back the
            // last commits (never corrupts the file), and the chain still refuses a second settlement of any authorization.
            // busy_timeout: SQLite's own busy handler waits for the write lock, rather than answering SQLITE_BUSY at once.
            Execute(connection, "PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;");
            _configured.AddOrUpdate(connection.Handle!, this);
        }
        return connection;
    }

    public async ValueTask DisposeAsync()
    {
        if (_writes.IsValueCreated)
        {
            await _writes.Value.DisposeAsync();
        }
    }

    internal static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
