using Microsoft.Data.Sqlite;

namespace X402Serverless.Sqlite;

/// <summary>
/// One SQLite file for everything the embedded deployment stores. WAL lets reads run beside the single writer;
/// the busy timeout makes concurrent writers queue instead of failing.
/// </summary>
public sealed class SqliteDatabase
{
    private readonly string _connectionString;

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
    }

    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        // WAL with synchronous=NORMAL: no fsync per commit. A process crash loses nothing; power loss may roll back the
        // last commits (never corrupts the file), and the chain still refuses a second settlement of any authorization.
        Execute(connection, "PRAGMA synchronous=NORMAL;");
        return connection;
    }

    internal static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
