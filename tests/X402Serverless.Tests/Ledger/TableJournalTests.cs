using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Microsoft.Extensions.Time.Testing;
using X402Serverless.AzureStorage;
using X402Serverless.AzureStorage.Tables;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;
using X402Serverless.Core.Ports;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Ledger;

/// <summary>
/// On Table Storage an entry's journal row guards its key. A post that meets a row under its key answers from what
/// that row comes to: its own row (the write's answer lost, the SDK's retry conflicting with it) is applied; another
/// post's, still being applied or taken back, is waited for; one that does not end is "not now". A post is told
/// Duplicate only for an entry that posted, since its caller then records the work as done.
/// </summary>
public sealed class TableJournalTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly LedgerEntry Spend = LedgerEntry.Transfer("e", "spend", Accounts.Credits("p"), Accounts.Earnings("o"), Usd.FromMicros(300));

    private readonly string _entriesTable = AzuriteFixture.UniqueTable("entries");

    [Fact]
    public async Task A_post_whose_journal_write_lost_its_answer_is_applied_not_taken_for_a_duplicate_of_itself()
    {
        var lost = new LostAnswers();
        var (ledger, time, _) = await FundedAsync(lost);

        // The journal row is written, then the connection drops before its answer: the SDK sends it again, which conflicts.
        lost.ArmFor("e");
        Assert.Equal(PostResult.Posted, await ledger.PostAsync(Spend, [], default));

        Assert.Equal(1, lost.Dropped);
        Assert.Equal(700, (await ledger.BalanceAsync(Accounts.Credits("p"), default)).Micros);
        Assert.Equal(300, (await ledger.BalanceAsync(Accounts.Earnings("o"), default)).Micros);
        Assert.NotNull(await ledger.EntryLegsAsync("e", default)); // posted, not left pending for recovery
        Assert.Equal(PostResult.Duplicate, await ledger.PostAsync(Spend, [], default));
        time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(0, await ledger.RecoverAsync(TimeSpan.FromMinutes(1), default));
    }

    [Fact]
    public async Task A_post_meeting_another_post_of_its_key_still_applying_waits_and_is_told_duplicate_once_that_one_posts()
    {
        var (first, second, held, conflicts, other, mine) = await SamePostTwiceAsync();
        // It met the other's row twice: it waits for it, instead of answering Duplicate before anything posted.
        await conflicts.AtLeastAsync(2);
        Assert.False(mine.IsCompleted);

        held.Release();
        Assert.Equal(PostResult.Posted, await other);
        Assert.Equal(PostResult.Duplicate, await mine);
        Assert.Equal(700, (await first.BalanceAsync(Accounts.Credits("p"), default)).Micros);
        Assert.All(await first.TrialBalanceAsync(default), a => Assert.Equal(a.PostedSum, a.Balance));
    }

    [Fact]
    public async Task A_post_meeting_another_post_of_its_key_that_is_then_refused_is_refused_too_never_told_duplicate()
    {
        var (first, second, held, conflicts, other, mine) = await SamePostTwiceAsync();
        await conflicts.AtLeastAsync(1);
        // Meanwhile the payer's credits are spent down to 100, so the other post's debit is refused once it goes on.
        Assert.Equal(PostResult.Posted, await second.PostAsync(LedgerEntry.Transfer("drain", "spend", Accounts.Credits("p"), Accounts.Earnings("o"), Usd.FromMicros(900)), [], default));

        held.Release();
        Assert.Equal(PostResult.Insufficient, await other);
        // The old answer was Duplicate: a credit grant or a card reversal then recorded as done what never posted.
        Assert.Equal(PostResult.Insufficient, await mine);
        Assert.Equal(100, (await first.BalanceAsync(Accounts.Credits("p"), default)).Micros);
        Assert.Null(await first.EntryLegsAsync("e", default));
        Assert.All(await first.TrialBalanceAsync(default), a => Assert.Equal(a.PostedSum, a.Balance));
    }

    [Fact]
    public async Task A_replay_storm_of_one_entry_from_two_processes_posts_it_once_and_tells_every_other_post_duplicate()
    {
        var (first, _, second) = await FundedAsync(new JournalConflicts(), new JournalConflicts());

        // 100 posts of the same entry at once, half through each process: each waits for the one that journaled first.
        var results = await Task.WhenAll(Enumerable.Range(0, 100).Select(i => Task.Run(() => (i % 2 == 0 ? first : second).PostAsync(Spend, [], default))));

        Assert.Equal(1, results.Count(r => r == PostResult.Posted));
        Assert.Equal(99, results.Count(r => r == PostResult.Duplicate));
        Assert.Equal(700, (await first.BalanceAsync(Accounts.Credits("p"), default)).Micros);
        Assert.Equal(300, (await first.BalanceAsync(Accounts.Earnings("o"), default)).Micros);
        Assert.All(await first.TrialBalanceAsync(default), a => Assert.Equal(a.PostedSum, a.Balance));
    }

    [Fact]
    public async Task A_post_meeting_an_entry_left_pending_by_a_stopped_run_is_told_not_now_until_recovery_finishes_it()
    {
        var (ledger, time, _) = await FundedAsync(new JournalConflicts());
        // Another process journaled e and stopped before applying anything.
        await azurite.Tables.GetTableClient(_entriesTable).AddEntityAsync(new TableEntity("e", "entry")
        {
            ["Kind"] = "spend", ["State"] = "pending", ["Run"] = "another",
            ["Legs"] = """[["credits:p","-300"],["earnings:o","300"]]""", ["Caps"] = "[]",
            ["CreatedAt"] = DateTimeOffset.UnixEpoch.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
        });

        var notNow = await Assert.ThrowsAsync<RowContendedException>(() => ledger.PostAsync(Spend, [], default));
        Assert.Contains("post it again", notNow.Message, StringComparison.Ordinal);
        Assert.Equal(1_000, (await ledger.BalanceAsync(Accounts.Credits("p"), default)).Micros);

        time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(1, await ledger.RecoverAsync(TimeSpan.FromMinutes(1), default));
        Assert.Equal(PostResult.Duplicate, await ledger.PostAsync(Spend, [], default));
        Assert.Equal(700, (await ledger.BalanceAsync(Accounts.Credits("p"), default)).Micros);
        Assert.Equal(300, (await ledger.BalanceAsync(Accounts.Earnings("o"), default)).Micros);
    }

    [Fact]
    public async Task A_calls_release_that_fails_still_has_its_counters_given_back_by_recovery_and_its_hold_goes_back_with_the_sweep()
    {
        var down = new JournalWritesDown();
        var (ledger, time, _) = await FundedAsync(down);
        IReadOnlyList<CapCheck> caps = [new CapCheck("month", Usd.FromMicros(400), Usd.FromMicros(1_000))];
        var release = LedgerEntry.Transfer("h1:release", "release", Accounts.Hold("h1"), Accounts.Credits("p"), Usd.FromMicros(400));
        Assert.Equal(PostResult.Posted, await ledger.PostAsync(LedgerEntry.Transfer("h1", "hold", Accounts.Credits("p"), Accounts.Hold("h1"), Usd.FromMicros(400)), caps, default));

        // The call's release cannot be journaled: the store fails it.
        down.Fail("h1:release");
        await Assert.ThrowsAsync<Azure.RequestFailedException>(() => ((ILedger)ledger).ReleaseHoldAsync("h1", release, caps, default));
        Assert.Equal(400, (await ledger.CapUsedAsync("month", default)).Micros);

        // Recovery gives the counters back (the old release gave them back only after it had posted, so never here),
        // and the stale sweep's release, which gives none back, returns the money.
        down.Fail(null);
        time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(1, await ledger.RecoverAsync(TimeSpan.FromMinutes(1), default));
        Assert.Equal(0, (await ledger.CapUsedAsync("month", default)).Micros);
        Assert.Equal(PostResult.Posted, await ((ILedger)ledger).ReleaseHoldAsync("h1", release, [], default));
        Assert.Equal(1_000, (await ledger.BalanceAsync(Accounts.Credits("p"), default)).Micros);
        Assert.Equal(0, (await ledger.CapUsedAsync("month", default)).Micros);
        Assert.All(await ledger.TrialBalanceAsync(default), a => Assert.Equal(a.PostedSum, a.Balance));
    }

    [Fact]
    public async Task A_refused_posts_retried_journal_delete_never_drops_the_row_a_later_post_of_its_key_wrote()
    {
        var lost = new LostDeleteAnswer();
        var (first, _, second) = await FundedAsync(lost, new JournalConflicts());
        var entry = LedgerEntry.Transfer("e", "spend", Accounts.Credits("p"), Accounts.Earnings("o"), Usd.FromMicros(2_000));
        PostResult? later = null;
        // The refused entry's journal row is deleted and the answer lost. Before the SDK sends the delete again, the
        // payer tops up and a retry of the same post (another instance) journals the key anew and posts it.
        lost.Arm(async () =>
        {
            Assert.Equal(PostResult.Posted, await second.PostAsync(LedgerEntry.Transfer("topup2", "topup", Accounts.CardClearing, Accounts.Credits("p"), Usd.FromMicros(1_500)), [], default));
            later = await second.PostAsync(entry, [], default);
        });

        Assert.Equal(PostResult.Insufficient, await first.PostAsync(entry, [], default));

        Assert.Equal(1, lost.Dropped);
        Assert.Equal(PostResult.Posted, later);
        // The later post's journal row is still there: its legs read back, and the key answers Duplicate.
        Assert.NotNull(await first.EntryLegsAsync("e", default));
        Assert.Equal(PostResult.Duplicate, await first.PostAsync(entry, [], default));
        Assert.Equal(500, (await first.BalanceAsync(Accounts.Credits("p"), default)).Micros);
        Assert.All(await first.TrialBalanceAsync(default), a => Assert.Equal(a.PostedSum, a.Balance));
    }

    /// <summary>
    /// The same post sent by two processes: the first's journaled, its debit held on the wire until released; then the
    /// second's, which meets the first's journal row.
    /// </summary>
    private async Task<(TableLedger First, TableLedger Second, HeldTableBatch Held, JournalConflicts Conflicts, Task<PostResult> Other, Task<PostResult> Mine)> SamePostTwiceAsync()
    {
        var held = new HeldTableBatch(3); // the funding's two legs are the first two: the first post's debit
        var conflicts = new JournalConflicts();
        var (first, _, second) = await FundedAsync(held, conflicts);
        var other = Task.Run(() => first.PostAsync(Spend, [], default));
        await held.Reached.WaitAsync(TimeSpan.FromSeconds(30));
        var mine = Task.Run(() => second.PostAsync(Spend, [], default));
        return (first, second, held, conflicts, other, mine);
    }

    /// <summary>
    /// Two ledgers on the same fresh tables, as two processes would be, one clock: the first's requests pass through
    /// <paramref name="firstPolicy"/>, the second's through <paramref name="secondPolicy"/>. The payer's credits hold 1,000.
    /// </summary>
    private async Task<(TableLedger First, FakeTimeProvider Time, TableLedger Second)> FundedAsync(HttpPipelinePolicy firstPolicy, HttpPipelinePolicy? secondPolicy = null)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var (accounts, caps) = (AzuriteFixture.UniqueTable("accounts"), AzuriteFixture.UniqueTable("caps"));
        var first = new TableLedger(azurite.Client(firstPolicy), time, _entriesTable, accounts, caps);
        var second = new TableLedger(secondPolicy is null ? azurite.Tables : azurite.Client(secondPolicy), time, _entriesTable, accounts, caps);
        await first.InitializeAsync(default);
        Assert.Equal(PostResult.Posted, await first.PostAsync(LedgerEntry.Transfer("fund", "topup", Accounts.CardClearing, Accounts.Credits("p"), Usd.FromMicros(1_000)), [], default));
        return (first, time, second);
    }

    private static string Body(RequestContent content)
    {
        using var buffer = new MemoryStream();
        content.WriteTo(buffer, default);
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Once armed, lets the next journal write of an entry through, then drops its answer as a reset connection would.</summary>
    private sealed class LostAnswers : HttpPipelinePolicy
    {
        private string? _entryKey;
        private int _dropped;

        public int Dropped => Volatile.Read(ref _dropped);

        public void ArmFor(string entryKey) => Volatile.Write(ref _entryKey, entryKey);

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            throw new NotSupportedException("The ledger sends asynchronously.");

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            await ProcessNextAsync(message, pipeline);
            if (message.Request.Method == RequestMethod.Post && message.Response.Status is >= 200 and < 300 && Volatile.Read(ref _entryKey) is { } key
                && message.Request.Content is { } content && Body(content).Contains($"\"PartitionKey\":\"{key}\"", StringComparison.Ordinal)
                && Interlocked.Exchange(ref _entryKey, null) is not null)
            {
                Interlocked.Increment(ref _dropped);
                throw new IOException("The connection was reset after the request was sent.");
            }
        }

    }

    /// <summary>Fails the journal writes of one entry key as a store that is down would, without sending them.</summary>
    private sealed class JournalWritesDown : HttpPipelinePolicy
    {
        private string? _entryKey;

        public void Fail(string? entryKey) => Volatile.Write(ref _entryKey, entryKey);

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            throw new NotSupportedException("The ledger sends asynchronously.");

        public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            Volatile.Read(ref _entryKey) is { } key && message.Request.Method == RequestMethod.Post && message.Request.Content is { } content
                && Body(content).Contains($"\"PartitionKey\":\"{key}\"", StringComparison.Ordinal)
                ? throw new Azure.RequestFailedException(500, "The store is down.")
                : ProcessNextAsync(message, pipeline);
    }

    /// <summary>Once armed, lets the next delete through, runs the armed step, then drops the delete's answer as a reset connection would.</summary>
    private sealed class LostDeleteAnswer : HttpPipelinePolicy
    {
        private Func<Task>? _meanwhile;
        private int _dropped;

        public int Dropped => Volatile.Read(ref _dropped);

        public void Arm(Func<Task> meanwhile) => Volatile.Write(ref _meanwhile, meanwhile);

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            throw new NotSupportedException("The ledger sends asynchronously.");

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            await ProcessNextAsync(message, pipeline);
            if (message.Request.Method == RequestMethod.Delete && message.Response.Status is >= 200 and < 300 && Interlocked.Exchange(ref _meanwhile, null) is { } meanwhile)
            {
                await meanwhile();
                Interlocked.Increment(ref _dropped);
                throw new IOException("The connection was reset after the request was sent.");
            }
        }
    }

    /// <summary>Counts journal writes answered 409: a post meeting another's row under its key.</summary>
    private sealed class JournalConflicts : HttpPipelineSynchronousPolicy
    {
        private int _count;

        public async Task AtLeastAsync(int count)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (Volatile.Read(ref _count) < count)
            {
                await Task.Delay(10, timeout.Token);
            }
        }

        public override void OnReceivedResponse(HttpMessage message)
        {
            if (message.Request.Method == RequestMethod.Post && message.Response.Status == 409)
            {
                Interlocked.Increment(ref _count);
            }
        }
    }
}
