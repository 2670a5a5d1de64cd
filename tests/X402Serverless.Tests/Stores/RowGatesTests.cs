using X402Serverless.AzureStorage.Tables;

namespace X402Serverless.Tests.Stores;

/// <summary>
/// The Table ledger's per-row turns: one holder per key at a time, other keys never wait, a wait gives up after its
/// bound instead of blocking for ever, a cancelled wait leaves no trace, and no key is kept once nobody uses it.
/// </summary>
public sealed class RowGatesTests
{
    [Fact]
    public async Task One_holder_per_key_at_a_time_while_other_keys_go_at_once()
    {
        var gates = new RowGates();
        var first = await gates.EnterAsync("credits:p", default);
        var second = gates.EnterAsync("credits:p", default).AsTask();
        var other = await gates.EnterAsync("earnings:o", default).AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(first.Held);
        Assert.True(other.Held);
        Assert.False(second.IsCompleted);
        first.Dispose();
        var next = await second.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(next.Held);
        next.Dispose();
        other.Dispose();
        Assert.Equal(0, gates.Count);
    }

    [Fact]
    public async Task A_wait_that_runs_out_gets_an_empty_turn_and_a_cancelled_one_leaves_no_trace()
    {
        var gates = new RowGates(TimeSpan.FromMilliseconds(50));
        var held = await gates.EnterAsync("cap:k", default);

        var late = await gates.EnterAsync("cap:k", default).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(late.Held);
        late.Dispose(); // releases nothing: the holder still holds

        using var cancel = new CancellationTokenSource();
        var cancelled = gates.EnterAsync("cap:k", cancel.Token).AsTask();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);

        Assert.Equal(1, gates.Count);
        held.Dispose();
        Assert.Equal(0, gates.Count);
        using var again = await gates.EnterAsync("cap:k", default);
        Assert.True(again.Held);
    }

    [Fact]
    public async Task Many_callers_on_few_keys_never_hold_one_key_twice_and_leave_nothing_behind()
    {
        var gates = new RowGates();
        var inside = new int[4];
        var overlaps = 0;
        await Task.WhenAll(Enumerable.Range(0, 64).Select(i => Task.Run(async () =>
        {
            for (var n = 0; n < 50; n++)
            {
                var k = (i + n) % inside.Length;
                using var turn = await gates.EnterAsync($"row{k}", default);
                if (Interlocked.Increment(ref inside[k]) != 1)
                {
                    Interlocked.Increment(ref overlaps);
                }
                await Task.Yield();
                Interlocked.Decrement(ref inside[k]);
            }
        })));
        Assert.Equal(0, overlaps);
        Assert.Equal(0, gates.Count);
    }
}
