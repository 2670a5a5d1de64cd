using System.Net;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using X402Serverless.Core.Chain;
using X402Serverless.Core.Facilitation;

namespace X402Serverless.Tests.Chain;

/// <summary>
/// The waits on one batch transaction share their receipt reads: a read under way is joined, a found receipt is reused
/// for a short while, and "not mined yet" only for the first poll interval. A node stand-in that holds its answer until
/// released makes the overlap certain; the clock is a fake one.
/// </summary>
public sealed class SharedReceiptsTests
{
    private const string Hash = "0x1111111111111111111111111111111111111111111111111111111111111111";

    [Fact]
    public async Task Waits_on_one_hash_share_a_read_under_way_and_a_found_receipt()
    {
        var node = new HeldNode();
        using var http = new HttpClient(node);
        var rpc = new EvmRpcClient(http, new Uri("http://127.0.0.1:1"));
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var receipts = new SharedReceipts(time, new BuiltInFacilitatorOptions());

        var reads = Enumerable.Range(0, 6).Select(_ => receipts.GetAsync(rpc, 84532, Hash, CancellationToken.None)).ToList();
        await node.Asked.WaitAsync(TimeSpan.FromSeconds(30));
        node.Answer("null");
        Assert.All(await Task.WhenAll(reads), Assert.Null);
        Assert.Equal(1, node.Count);

        // "Not mined yet" is asked again after the first poll interval; the receipt found is then reused.
        time.Advance(TimeSpan.FromMilliseconds(3));
        node.Reset();
        var found = receipts.GetAsync(rpc, 84532, Hash.ToUpperInvariant().Replace("0X", "0x", StringComparison.Ordinal), CancellationToken.None);
        await node.Asked.WaitAsync(TimeSpan.FromSeconds(30));
        node.Answer($$"""{"transactionHash":"{{Hash}}","status":"0x1","blockNumber":"0x5","gasUsed":"0x5208","logs":[]}""");
        Assert.NotNull(await found);
        var again = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => receipts.GetAsync(rpc, 84532, Hash, CancellationToken.None)));
        Assert.All(again, r => Assert.Equal(Hash, r!.TransactionHash));
        Assert.Equal(2, node.Count);

        // Another chain's transaction with the same hash is its own read.
        node.Reset();
        var other = receipts.GetAsync(rpc, 8453, Hash, CancellationToken.None);
        await node.Asked.WaitAsync(TimeSpan.FromSeconds(30));
        node.Answer("null");
        Assert.Null(await other);
        Assert.Equal(3, node.Count);
    }

    /// <summary>Answers eth_getTransactionReceipt with what <see cref="Answer"/> gives, once it is given; counts the requests.</summary>
    private sealed class HeldNode : HttpMessageHandler
    {
        private int _count;
        private TaskCompletionSource _asked = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private TaskCompletionSource<string> _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Count => Volatile.Read(ref _count);

        public Task Asked => _asked.Task;

        public void Answer(string result) => _answer.TrySetResult(result);

        public void Reset()
        {
            _asked = new(TaskCreationOptions.RunContinuationsAsynchronously);
            _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _count);
            var answer = _answer.Task;
            _asked.TrySetResult();
            var result = await answer.WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
            return new HttpResponseMessage(HttpStatusCode.OK)
            {
                Content = new StringContent($$"""{"jsonrpc":"2.0","id":1,"result":{{result}}}""", Encoding.UTF8, "application/json"),
            };
        }
    }
}
