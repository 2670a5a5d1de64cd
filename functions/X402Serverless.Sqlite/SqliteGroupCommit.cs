using System.Collections.Concurrent;
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
    private readonly ConcurrentQueue<IOperation> _queue = new();
    // The writer sleeps on this when the queue is empty; a caller wakes it only if it is asleep (_sleeping), so a
    // busy writer costs its callers no signal.
    private readonly SemaphoreSlim _wake = new(0);
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private SqliteWrite? _write;
    private long _lastCheckpoint;
    private long _commits;
    private int _queued;
    private int _sleeping;
    private readonly Lock _gate = new();
    private volatile bool _closing;
    private Exception? _fault;
    private Task _checkpoint = Task.CompletedTask;

    public SqliteGroupCommit(Func<SqliteConnection> open)
    {
        _open = open;
        // A thread of its own, not a thread-pool task: a caller's write wakes it directly, instead of queueing its wake-up
        // behind the requests the pool is running, which every caller of the next batch would wait out.
        // UnsafeStart: the first caller's ambient context (its activity, its logging scope) is not the writer's.
        new Thread(Run) { IsBackground = true, Name = "SQLite writer" }.UnsafeStart();
    }

    /// <summary>Writes waiting for the writer (not counting the batch it runs).</summary>
    public int Queued => Volatile.Read(ref _queued);

    /// <summary>Transactions committed so far.</summary>
    public long Commits => Interlocked.Read(ref _commits);

    /// <summary>Runs <paramref name="work"/> on the writer connection; the result comes back once it is committed.</summary>
    public Task<T> WriteAsync<T>(Func<SqliteWrite, T> work, CancellationToken cancellationToken = default)
    {
        var operation = new Operation<T>(work, cancellationToken);
        // Closing and queueing exclude each other, so no write is queued after the writer's last look.
        lock (_gate)
        {
            if (_fault is not null)
            {
                throw new InvalidOperationException("The SQLite writer stopped after an error; restart the process.", _fault);
            }
            ObjectDisposedException.ThrowIf(_closing, this);
            Interlocked.Increment(ref _queued);
            _queue.Enqueue(operation);
        }
        Wake();
        return operation.Task;
    }

    /// <summary>Stops taking writes, runs and commits those already queued, and closes the writer connection.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            _closing = true;
        }
        Wake();
        await _stopped.Task;
    }

    private void Wake()
    {
        if (Interlocked.Exchange(ref _sleeping, 0) == 1)
        {
            _wake.Release();
        }
    }

    private void Run()
    {
        var batch = new List<IOperation>(MaxBatch);
        try
        {
            while (true)
            {
                while (batch.Count < MaxBatch && _queue.TryDequeue(out var operation))
                {
                    Interlocked.Decrement(ref _queued);
                    batch.Add(operation);
                }
                if (batch.Count > 0)
                {
                    RunBatch(batch);
                    batch.Clear();
                    continue;
                }
                if (_closing && _queue.IsEmpty)
                {
                    break; // every write queued before closing has run
                }
                // Asleep only once it has looked again after saying so: a write queued before that look is run, and
                // one queued after it sees _sleeping and wakes the writer.
                Volatile.Write(ref _sleeping, 1);
                Interlocked.MemoryBarrier();
                if (!_queue.IsEmpty || _closing)
                {
                    if (Interlocked.Exchange(ref _sleeping, 0) == 0)
                    {
                        _wake.Wait(); // a caller saw it asleep and released once: take that release
                    }
                    continue;
                }
                _wake.Wait();
            }
            _write?.Dispose();
            _checkpoint.GetAwaiter().GetResult();
            _stopped.TrySetResult();
        }
        catch (Exception e)
        {
            // Only a fault of the writer itself gets here (an operation's own is its caller's): no caller is left waiting
            // for an answer that would never come, and no write is taken any more.
            lock (_gate)
            {
                _fault = e;
            }
            foreach (var operation in batch)
            {
                operation.Fail(e);
            }
            while (_queue.TryDequeue(out var queued))
            {
                Interlocked.Decrement(ref _queued);
                queued.Fail(e);
            }
            _stopped.TrySetException(e);
        }
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
