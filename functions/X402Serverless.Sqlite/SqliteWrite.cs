using Microsoft.Data.Sqlite;

namespace X402Serverless.Sqlite;

/// <summary>
/// What one operation of <see cref="SqliteGroupCommit"/> writes through: the writer connection inside the batch's
/// transaction, with its commands kept prepared from one call to the next (the statements of the hot path are
/// compiled once, not on every call).
/// </summary>
public sealed class SqliteWrite : IDisposable
{
    private const int MaxPrepared = 256;

    private readonly SqliteConnection _connection;
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);
    private SqliteTransaction? _transaction;

    private SqliteWrite(SqliteConnection connection) => _connection = connection;

    internal static SqliteWrite Open(SqliteConnection connection)
    {
        // Checkpoints are run beside the writer (SqliteGroupCommit); its own automatic one only bounds the WAL
        // should those fall behind (16 MB rather than 4 MB).
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "PRAGMA wal_autocheckpoint=4000;";
            command.ExecuteNonQuery();
        }
        return new SqliteWrite(connection);
    }

    /// <summary>Set by an operation whose writes are to be rolled back (its result still goes to its caller).</summary>
    public bool Undone { get; set; }

    // What the operations of the batch so far did beside the file (SqliteHeldMoney), to finish once their writes are
    // committed or to put back when they are not: the operation running now's, then those kept of the batch.
    private readonly List<Action> _onCommit = [];
    private readonly List<Action> _onRollback = [];
    private readonly List<Action> _batchOnCommit = [];
    private readonly List<Action> _batchOnRollback = [];

    /// <summary>Runs <paramref name="action"/> once this operation's writes are committed, before its caller hears of it.</summary>
    public void OnCommit(Action action) => _onCommit.Add(action);

    /// <summary>Runs <paramref name="action"/> if this operation's writes are rolled back (undone, thrown, or the batch lost).</summary>
    public void OnRollback(Action action) => _onRollback.Add(action);

    /// <summary>The operation that ran is kept in the batch (its writes stand, until the commit) or rolled back.</summary>
    internal void EndOperation(bool kept)
    {
        if (kept)
        {
            _batchOnCommit.AddRange(_onCommit);
            _batchOnRollback.AddRange(_onRollback);
        }
        else
        {
            RunBackwards(_onRollback);
        }
        _onCommit.Clear();
        _onRollback.Clear();
    }

    /// <summary>The batch committed (<paramref name="committed"/>) or was lost: what its kept operations asked for then.</summary>
    internal void EndBatch(bool committed)
    {
        if (!committed)
        {
            EndOperation(kept: false); // an operation interrupted by the batch's loss
            RunBackwards(_batchOnRollback);
        }
        else
        {
            foreach (var action in _batchOnCommit)
            {
                action();
            }
        }
        _batchOnCommit.Clear();
        _batchOnRollback.Clear();
    }

    private static void RunBackwards(List<Action> actions)
    {
        for (var i = actions.Count - 1; i >= 0; i--)
        {
            actions[i]();
        }
        actions.Clear();
    }

    internal bool InTransaction => SQLitePCL.raw.sqlite3_get_autocommit(_connection.Handle) == 0;

    /// <summary>The command for <paramref name="sql"/>, prepared once, with no parameters bound.</summary>
    public SqliteCommand Command(string sql)
    {
        if (!_commands.TryGetValue(sql, out var command))
        {
            command = _connection.CreateCommand();
            command.CommandText = sql;
            // The writes are a fixed set of statements; a caller building SQL per call would only grow this.
            if (_commands.Count < MaxPrepared)
            {
                _commands[sql] = command;
            }
        }
        command.Transaction = _transaction;
        command.Parameters.Clear();
        return command;
    }

    /// <summary>Runs <paramref name="sql"/> with the parameters given; the number of rows changed.</summary>
    public int Execute(string sql, params ReadOnlySpan<(string Name, object Value)> parameters)
    {
        var command = Command(sql);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return command.ExecuteNonQuery();
    }

    /// <summary>Runs <paramref name="sql"/> and reads its first row's columns as integers, or null when it has no row.</summary>
    public long[]? Row(string sql, params ReadOnlySpan<(string Name, object Value)> parameters)
    {
        var command = Command(sql);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }
        var row = new long[reader.FieldCount];
        for (var i = 0; i < row.Length; i++)
        {
            row[i] = reader.GetInt64(i);
        }
        return row;
    }

    internal SqliteTransaction Begin() => _transaction = _connection.BeginTransaction();

    public void Dispose()
    {
        foreach (var command in _commands.Values)
        {
            command.Dispose();
        }
        _connection.Dispose();
    }
}
