using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace X402Serverless.Sqlite;

/// <summary>
/// Group commit: one writer connection runs the write operations queued meanwhile (up to <see cref="MaxBatch"/>) in
/// one IMMEDIATE transaction, each in its own savepoint, and answers their callers only once that transaction has
/// committed. A lone write is run at once (no timer); under load the wait is bounded by one batch, and one commit
/// (one WAL append) serves many callers instead of each taking the write lock in turn.
/// An operation that throws or asks to undo has only its own savepoint rolled back; if the transaction itself is
/// lost (a failed commit, an error SQLite answers by rolling back), every caller of the batch gets the error, none
/// is told its write is durable.
/// </summary>
public sealed class SqliteGroupCommit : IAsyncDisposable
{
    public const int MaxBatch = 256;

    private const long CheckpointEveryMilliseconds = 250;

    private readonly Func<SqliteConnection> _open;
    private readonly Channel<IOperation> _queue = Channel.CreateUnbounded<IOperation>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;
    private SqliteWrite? _write;
    private long _lastCheckpoint;
    private long _commits;
    private int _queued;
    private Task _checkpoint = Task.CompletedTask;

    public SqliteGroupCommit(Func<SqliteConnection> open)
    {
        _open = open;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Writes waiting for the writer (not counting the batch it runs).</summary>
    public int Queued => Volatile.Read(ref _queued);

    /// <summary>Transactions committed so far.</summary>
    public long Commits => Interlocked.Read(ref _commits);

    /// <summary>Runs <paramref name="work"/> on the writer connection; the result comes back once it is committed.</summary>
    public Task<T> WriteAsync<T>(Func<SqliteWrite, T> work, CancellationToken cancellationToken = default)
    {
        var operation = new Operation<T>(work, cancellationToken);
        Interlocked.Increment(ref _queued);
        if (!_queue.Writer.TryWrite(operation))
        {
            Interlocked.Decrement(ref _queued);
            ObjectDisposedException.ThrowIf(true, this);
        }
        return operation.Task;
    }

    /// <summary>Stops taking writes, runs and commits those already queued, and closes the writer connection.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop;
    }

    private async Task RunAsync()
    {
        var batch = new List<IOperation>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var operation))
            {
                Interlocked.Decrement(ref _queued);
                batch.Add(operation);
            }
            RunBatch(batch);
            batch.Clear();
        }
        _write?.Dispose();
        await _checkpoint;
    }

    private void RunBatch(List<IOperation> batch)
    {
        var ran = new List<IOperation>(batch.Count);
        try
        {
            _write ??= SqliteWrite.Open(_open());
            using var transaction = _write.Begin();
            foreach (var operation in batch)
            {
                if (operation.CancellationToken.IsCancellationRequested)
                {
                    operation.Cancel();
                    continue;
                }
                _write.Command("SAVEPOINT op;").ExecuteNonQuery();
                try
                {
                    _write.Undone = false;
                    operation.Run(_write);
                }
                catch (Exception e)
                {
                    operation.Fail(e);
                    _write.Undone = true;
                }
                if (!_write.InTransaction)
                {
                    // SQLite rolled the whole transaction back (disk full, I/O error): nothing of the batch is kept.
                    throw new SqliteException("The write transaction was rolled back by SQLite.", 1);
                }
                if (_write.Undone)
                {
                    _write.Command("ROLLBACK TO op;").ExecuteNonQuery();
                }
                _write.EndOperation(kept: !_write.Undone);
                _write.Command("RELEASE op;").ExecuteNonQuery();
                ran.Add(operation);
            }
            transaction.Commit();
            Interlocked.Increment(ref _commits);
        }
        catch (Exception e)
        {
            // The transaction is gone: no write of this batch is durable, so every caller hears of the failure.
            _write?.EndBatch(committed: false);
            _write?.Dispose();
            _write = null;
            foreach (var operation in batch)
            {
                operation.Fail(e);
            }
            return;
        }
        // Committed: what the operations did beside the file is final, before any caller hears of it.
        _write.EndBatch(committed: true);
        foreach (var operation in ran)
        {
            operation.Complete();
        }
        StartCheckpoint();
    }

    /// <summary>
    /// Copies the WAL back into the database file on another connection, beside the writer: a checkpoint syncs the
    /// file, which on the writer would stall every caller of the batch. One at a time, at most every CheckpointEvery.
    /// </summary>
    private void StartCheckpoint()
    {
        var now = Environment.TickCount64;
        if (!_checkpoint.IsCompleted || now - _lastCheckpoint < CheckpointEveryMilliseconds)
        {
            return;
        }
        _lastCheckpoint = now;
        _checkpoint = Task.Run(() =>
        {
            try
            {
                using var connection = _open();
                using var command = connection.CreateCommand();
                command.CommandText = "PRAGMA wal_checkpoint(PASSIVE);";
                command.ExecuteNonQuery();
            }
            catch (SqliteException)
            {
                // The next one retries; the writer's own automatic checkpoint is the backstop.
            }
        });
    }

    private interface IOperation
    {
        CancellationToken CancellationToken { get; }

        void Run(SqliteWrite write);

        void Complete();

        void Fail(Exception exception);

        void Cancel();
    }

    private sealed class Operation<T>(Func<SqliteWrite, T> work, CancellationToken cancellationToken) : IOperation
    {
        // Continuations run off the writer, so a caller's code never delays the next batch.
        private readonly TaskCompletionSource<T> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? _result;
        private Exception? _failure;

        public Task<T> Task => _done.Task;

        public CancellationToken CancellationToken => cancellationToken;

        public void Run(SqliteWrite write) => _result = work(write);

        public void Complete()
        {
            if (_failure is { } failure)
            {
                _done.TrySetException(failure);
            }
            else
            {
                _done.TrySetResult(_result!);
            }
        }

        // The first failure is the one reported (an operation's own, before a later batch failure).
        public void Fail(Exception exception)
        {
            _failure ??= exception;
            _done.TrySetException(exception);
        }

        public void Cancel() => _done.TrySetCanceled(cancellationToken);
    }
}
