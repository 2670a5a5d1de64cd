using Microsoft.Data.Sqlite;
using X402Serverless.Sqlite;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Stores;

/// <summary>
/// The group-committing writer: writes queued while one runs share the next transaction, a caller hears back only
/// once its write is committed (visible to any other connection), and one failing write costs the others nothing.
/// </summary>
public sealed class SqliteGroupCommitTests : IAsyncLifetime, IDisposable
{
    private readonly SqliteDatabase _database = new(Path.Combine(Path.GetTempPath(), "x402-group-" + Guid.NewGuid().ToString("N"), "x402.db"));
    private readonly ManualResetEventSlim _gate = new();
    private readonly TaskCompletionSource _holding = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task InitializeAsync() =>
        await _database.Writes.WriteAsync(w => w.Execute("CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY);"));

    public async Task DisposeAsync()
    {
        _gate.Set();
        await _database.DisposeAsync();
    }

    public void Dispose() => _gate.Dispose();

    /// <summary>A write that inserts <paramref name="key"/> and then keeps the writer (and its open transaction) until the gate opens.</summary>
    private Task<int> HoldTheWriterAsync(string key) => _database.Writes.WriteAsync(w =>
    {
        var n = Insert(w, key);
        _holding.TrySetResult();
        _gate.Wait(TimeSpan.FromMinutes(1));
        return n;
    });

    private static int Insert(SqliteWrite write, string key) => write.Execute("INSERT INTO t (k) VALUES ($k);", ("$k", key));

    private long Count(string like)
    {
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM t WHERE k LIKE $like;";
        command.Parameters.AddWithValue("$like", like);
        return (long)command.ExecuteScalar()!;
    }

    [Fact]
    public async Task Writes_queued_while_one_runs_are_committed_together_and_answered_only_once_committed()
    {
        var first = HoldTheWriterAsync("first");
        await _holding.Task;
        var queued = Enumerable.Range(0, 200).Select(i => Task.Run(() => _database.Writes.WriteAsync(w => Insert(w, $"q{i}")))).ToList();
        await Poll.UntilAsync(() => Task.FromResult(_database.Writes.Queued == 200), TimeSpan.FromSeconds(30));

        // The first write is done but not committed: nobody else sees it, and its caller has not been answered.
        Assert.Equal(0, Count("first"));
        Assert.False(first.IsCompleted);
        var commitsBefore = _database.Writes.Commits;

        _gate.Set();
        Assert.Equal(1, await first);
        Assert.All(await Task.WhenAll(queued), n => Assert.Equal(1, n));
        Assert.Equal(200, Count("q%"));
        // The first write's batch, then the 200 queued behind it in one more (MaxBatch is above 200).
        Assert.Equal(2, _database.Writes.Commits - commitsBefore);
    }

    [Fact]
    public async Task A_failing_or_undone_write_leaves_no_trace_and_the_rest_of_its_batch_is_committed()
    {
        var first = HoldTheWriterAsync("first");
        await _holding.Task;
        var good = _database.Writes.WriteAsync(w => Insert(w, "good"));
        var failing = _database.Writes.WriteAsync<int>(w =>
        {
            Insert(w, "half-done");
            throw new InvalidOperationException("refused");
        });
        var duplicate = _database.Writes.WriteAsync(w => Insert(w, "good")); // a constraint error, after the first "good"
        var undone = _database.Writes.WriteAsync(w =>
        {
            Insert(w, "undone");
            w.Undone = true;
            return "kept result";
        });
        var alsoGood = _database.Writes.WriteAsync(w => Insert(w, "also-good"));
        await Poll.UntilAsync(() => Task.FromResult(_database.Writes.Queued == 5), TimeSpan.FromSeconds(30));
        _gate.Set();

        await first;
        Assert.Equal(1, await good);
        Assert.Equal("refused", (await Assert.ThrowsAsync<InvalidOperationException>(() => failing)).Message);
        await Assert.ThrowsAsync<SqliteException>(() => duplicate);
        Assert.Equal("kept result", await undone);
        Assert.Equal(1, await alsoGood);
        Assert.Equal(1, Count("good"));
        Assert.Equal(1, Count("also-good"));
        Assert.Equal(0, Count("half-done"));
        Assert.Equal(0, Count("undone"));
    }

    [Fact]
    public async Task A_batch_whose_transaction_is_lost_tells_every_caller_and_keeps_nothing()
    {
        var first = HoldTheWriterAsync("first");
        await _holding.Task;
        var before = _database.Writes.WriteAsync(w => Insert(w, "before"));
        // Stands for an error SQLite answers by rolling the whole transaction back (disk full, I/O error).
        var breaker = _database.Writes.WriteAsync(w => w.Execute("ROLLBACK;"));
        var after = _database.Writes.WriteAsync(w => Insert(w, "after"));
        await Poll.UntilAsync(() => Task.FromResult(_database.Writes.Queued == 3), TimeSpan.FromSeconds(30));
        _gate.Set();

        await first; // its own batch, committed before
        await Assert.ThrowsAsync<SqliteException>(() => before);
        await Assert.ThrowsAnyAsync<Exception>(() => breaker);
        await Assert.ThrowsAsync<SqliteException>(() => after);
        Assert.Equal(0, Count("before"));
        Assert.Equal(0, Count("after"));

        // The writer carries on with a fresh transaction.
        Assert.Equal(1, await _database.Writes.WriteAsync(w => Insert(w, "later")));
        Assert.Equal(1, Count("later"));
    }

    [Fact]
    public async Task Disposing_commits_what_was_queued_and_refuses_new_writes()
    {
        var first = HoldTheWriterAsync("first");
        await _holding.Task;
        var queued = Enumerable.Range(0, 20).Select(i => _database.Writes.WriteAsync(w => Insert(w, $"q{i}"))).ToList();
        var disposing = _database.DisposeAsync().AsTask();
        Assert.Throws<ObjectDisposedException>(() => { _ = _database.Writes.WriteAsync(w => Insert(w, "too-late")); });
        _gate.Set();
        await disposing;

        await first;
        Assert.All(await Task.WhenAll(queued), n => Assert.Equal(1, n));
        Assert.Equal(20, Count("q%"));
        Assert.Equal(0, Count("too-late"));
    }

    [Fact]
    public async Task A_write_cancelled_before_it_runs_is_not_run()
    {
        var first = HoldTheWriterAsync("first");
        await _holding.Task;
        using var cancel = new CancellationTokenSource();
        var cancelled = _database.Writes.WriteAsync(w => Insert(w, "cancelled"), cancel.Token);
        await cancel.CancelAsync();
        _gate.Set();

        await first;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.Equal(0, Count("cancelled"));
    }

    [Fact]
    public async Task Writes_that_arrive_one_at_a_time_as_the_writer_falls_idle_are_all_run()
    {
        // Each caller waits for its write before the next, so the writer empties its queue and goes to sleep again and
        // again while others arrive: a wake-up lost in that moment would leave a caller waiting for ever.
        // One caller alone as well: nobody else would come to wake the writer for it.
        var callers = Enumerable.Range(0, 16).Select(c => Task.Run(async () =>
        {
            for (var i = 0; i < (c == 0 ? 2000 : 150); i++)
            {
                Assert.Equal(1, await _database.Writes.WriteAsync(w => Insert(w, $"c{c}-{i}")));
                if (i % 7 == c % 7)
                {
                    await Task.Yield();
                }
            }
        }));
        await Task.WhenAll(callers).WaitAsync(TimeSpan.FromMinutes(2));
        Assert.Equal(2000 + 15 * 150, Count("c%"));
        Assert.Equal(0, _database.Writes.Queued);
    }

    [Fact]
    public async Task Writes_racing_the_disposal_are_each_either_refused_at_once_or_committed()
    {
        var file = Path.Combine(Path.GetTempPath(), "x402-group-" + Guid.NewGuid().ToString("N"), "x402.db");
        var database = new SqliteDatabase(file);
        await database.Writes.WriteAsync(w => w.Execute("CREATE TABLE t (k TEXT PRIMARY KEY);"));
        var refused = 0;
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writers = Enumerable.Range(0, 8).Select(c => Task.Run(async () =>
        {
            await start.Task;
            var committed = 0;
            for (var i = 0; ; i++)
            {
                Task<int> write;
                try
                {
                    write = database.Writes.WriteAsync(w => Insert(w, $"r{c}-{i}"));
                }
                catch (ObjectDisposedException)
                {
                    Interlocked.Increment(ref refused);
                    return committed;
                }
                committed += await write; // taken before the disposal: it runs, and is committed, before the writer stops
            }
        })).ToList();
        start.SetResult();
        await Poll.UntilAsync(() => Task.FromResult(database.Writes.Commits > 20), TimeSpan.FromSeconds(30));
        await database.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromMinutes(1));
        var total = (await Task.WhenAll(writers).WaitAsync(TimeSpan.FromMinutes(1))).Sum();

        Assert.Equal(8, refused);
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = file }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM t;";
        Assert.Equal(total, (long)command.ExecuteScalar()!);
    }
    [Fact]
    public async Task A_writer_that_breaks_answers_every_caller_and_takes_no_more_writes()
    {
        var database = new SqliteDatabase(Path.Combine(Path.GetTempPath(), "x402-group-" + Guid.NewGuid().ToString("N"), "x402.db"));
        await database.Writes.WriteAsync(w => w.Execute("CREATE TABLE t (k TEXT PRIMARY KEY);"));
        // Work the writer itself runs after the commit (a held-money update, say) failing: a bug, never an operation's
        // own failure. Nothing may wait for ever on a writer that is gone.
        var broken = database.Writes.WriteAsync(w =>
        {
            w.OnCommit(() => throw new InvalidOperationException("broken after commit"));
            return Insert(w, "a");
        });

        await Assert.ThrowsAsync<InvalidOperationException>(() => broken.WaitAsync(TimeSpan.FromMinutes(1)));
        var refused = Assert.Throws<InvalidOperationException>(() => { _ = database.Writes.WriteAsync(w => Insert(w, "b")); });
        Assert.Equal("broken after commit", refused.InnerException?.Message);
        await Assert.ThrowsAsync<InvalidOperationException>(() => database.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromMinutes(1)));
    }
}
