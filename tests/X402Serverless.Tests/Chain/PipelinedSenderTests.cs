using System.Globalization;
using System.Numerics;
using System.Text.Json;
using X402Serverless.Core.Chain;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Facilitation;
using X402Serverless.Core.Networks;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Chain;

/// <summary>
/// The gas wallet's pipelined sender on anvil: transactions sent side by side take consecutive nonces and are all
/// mined; a send the node refuses or never gets mid-burst leaves no gap behind it; a new process continues after what
/// the previous one left in the pool. Each test has its own funded gas wallet, so nonces are its own. Waits for mining
/// run the sender's gap check as the settlement's receipt wait does, since anvil's automine can leave a transaction that
/// arrived out of nonce order queued (foundry#10122) until something replaces it.
/// </summary>
[Collection(ChainGroup.Name)]
public sealed class PipelinedSenderTests(ChainFixture chain) : IAsyncLifetime, IDisposable
{
    private readonly HttpClient _http = new();
    private RpcProxy _proxy = null!;
    private GasWallet _wallet = null!;
    private EvmNetwork _network = null!;
    private EvmRpcClient _rpc = null!;
    private EvmRpcClient _direct = null!;

    public async Task InitializeAsync()
    {
        _proxy = await RpcProxy.StartAsync(chain.RpcUrl);
        _wallet = new GasWallet(await chain.FundedWalletAsync());
        _network = new EvmNetwork(ChainFixture.V2Network, 84532, null, chain.Token, "USD Coin", "2", 6, _proxy.Url);
        _rpc = new EvmRpcClient(_http, new Uri(_proxy.Url));
        _direct = new EvmRpcClient(_http, new Uri(chain.RpcUrl)); // the gap check's own calls bypass the proxy's faults and counts
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
    }

    public void Dispose() => _http.Dispose();

    [Fact]
    public async Task Sends_side_by_side_are_all_mined_with_consecutive_nonces()
    {
        using var sender = NewSender();
        var start = await CountAsync("latest");

        var sent = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => SendAsync(sender, i)));

        Assert.All(sent, s => Assert.Null(s.Failure));
        await WaitAllMinedAsync(sender, start + 40);
        var nonces = new List<BigInteger>();
        foreach (var (hash, _) in sent)
        {
            nonces.Add(await NonceOfAsync(await MinedAsync(sender, hash!)));
        }
        Assert.Equal(Enumerable.Range(0, 40).Select(i => start + i), nonces.Order());
        Assert.Equal(1, _proxy.Calls("eth_getTransactionCount")); // asked once, then counted locally
    }

    [Fact]
    public async Task A_send_the_node_refuses_mid_burst_is_filled_and_the_rest_are_mined()
    {
        using var sender = NewSender();
        var start = await CountAsync("latest");
        var victim = ChainFixture.NewAddress();
        _proxy.Fault = (method, body) => method == "eth_sendRawTransaction" && body.Contains(Tag(victim), StringComparison.Ordinal) ? RpcFault.Refuse : RpcFault.Pass;

        var sent = await Task.WhenAll(Enumerable.Range(0, 30).Select(async i =>
        {
            try
            {
                return await SendAsync(sender, i, i == 10 ? victim : null);
            }
            catch (RpcException)
            {
                return (null, "refused");
            }
        }));

        Assert.Single(sent, s => s.Hash is null);
        // Every nonce handed out is held: 29 calls and the no-op that fills the refused one's nonce.
        await WaitAllMinedAsync(sender, start + 30);
        foreach (var (hash, _) in sent.Where(s => s.Hash is not null))
        {
            await MinedAsync(sender, hash!);
        }
    }

    [Fact]
    public async Task A_send_lost_on_the_way_is_sent_again_and_a_nonce_the_node_never_got_is_taken_by_the_next_send()
    {
        using var sender = NewSender();
        var start = await CountAsync("latest");
        // One send is lost once, then gets through when sent again; another is lost every time, and so is the
        // filler for its nonce (a no-op to the gas wallet itself), so its nonce is returned with later ones waiting.
        var once = ChainFixture.NewAddress();
        var gone = ChainFixture.NewAddress();
        var onceDrops = 0;
        _proxy.Fault = (method, body) => method != "eth_sendRawTransaction" ? RpcFault.Pass
            : body.Contains(Tag(gone), StringComparison.Ordinal) || body.Contains(Tag(_wallet.Address), StringComparison.Ordinal) ? RpcFault.Drop
            : body.Contains(Tag(once), StringComparison.Ordinal) && Interlocked.Increment(ref onceDrops) == 1 ? RpcFault.Drop
            : RpcFault.Pass;

        var sent = await Task.WhenAll(Enumerable.Range(0, 20).Select(async i =>
        {
            try
            {
                return await SendAsync(sender, i, i == 5 ? once : i == 12 ? gone : null);
            }
            catch (RpcUnavailableException)
            {
                return (null, "lost");
            }
        }));

        Assert.Single(sent, s => s.Hash is null);
        Assert.NotNull(sent[5].Hash);
        _proxy.Fault = null;
        var next = await SendAsync(sender, 99);
        Assert.Null(next.Failure);
        await WaitAllMinedAsync(sender, start + 20);
        var nonces = new List<BigInteger>();
        foreach (var (hash, _) in sent.Where(s => s.Hash is not null).Append(next))
        {
            nonces.Add(await NonceOfAsync(await MinedAsync(sender, hash!)));
        }
        Assert.Equal(Enumerable.Range(0, 20).Select(i => start + i), nonces.Order()); // the lost one's nonce went to the next send
    }

    [Fact]
    public async Task A_restarted_sender_continues_after_what_the_previous_process_left_in_the_pool_and_fills_its_gap()
    {
        var start = await CountAsync("latest");
        using (var before = NewSender())
        {
            Assert.All(await Task.WhenAll(Enumerable.Range(0, 10).Select(i => SendAsync(before, i))), s => Assert.Null(s.Failure));
        }
        // A crash mid-burst: the process had sent start+11 but its start+10 never reached the node.
        var gas = await _rpc.EstimateGasAsync(_wallet.Address, chain.Token, Eip3009Calls.BalanceOf(ChainFixture.NewAddress()), CancellationToken.None);
        var (stranded, strandedHash) = _wallet.Sign(new Eip1559Transaction(84532, start + 11, 1_000_000_000, 100_000_000_000, gas * 2,
            chain.Token, 0, Eip3009Calls.BalanceOf(ChainFixture.NewAddress())));
        await _rpc.SendRawTransactionAsync(stranded, CancellationToken.None);
        Assert.Null(await chain.Rpc.ReceiptStatusAsync(strandedHash)); // queued behind the gap

        using var after = NewSender();
        var sent = await Task.WhenAll(Enumerable.Range(0, 5).Select(i => SendAsync(after, i)));

        Assert.All(sent, s => Assert.Null(s.Failure));
        await WaitAllMinedAsync(after, start + 16);
        Assert.Equal(1, await chain.Rpc.ReceiptStatusAsync(strandedHash));
        var nonces = new List<BigInteger>();
        foreach (var (hash, _) in sent)
        {
            nonces.Add(await NonceOfAsync(await MinedAsync(after, hash!)));
        }
        Assert.Contains(start + 10, nonces); // the gap, filled by the first send
        Assert.DoesNotContain(start + 11, nonces);
    }

    private GasWalletSender NewSender() => new(_wallet, new BuiltInFacilitatorOptions { GapCheckInterval = TimeSpan.FromSeconds(1) }, TimeProvider.System);

    /// <summary>The mined one of <paramref name="hash"/> and what replaced it (see <see cref="GasWalletSender.Lineage"/>), which succeeded.</summary>
    private async Task<string> MinedAsync(GasWalletSender sender, string hash)
    {
        foreach (var sent in sender.Lineage(_network.ChainId, hash))
        {
            if (await chain.Rpc.ReceiptStatusAsync(sent) is { } status)
            {
                Assert.Equal(1, status);
                return sent;
            }
        }
        throw new Xunit.Sdk.XunitException($"Neither {hash} nor a replacement of it was mined.");
    }

    /// <summary>A harmless call as a transaction (balanceOf of a fresh address): mined with status 1, moving nothing.</summary>
    private async Task<(string? Hash, string? Failure)> SendAsync(GasWalletSender sender, int i, EvmAddress? of = null)
    {
        var data = Eip3009Calls.BalanceOf(of ?? ChainFixture.NewAddress());
        var gas = await _rpc.EstimateGasAsync(_wallet.Address, chain.Token, data, CancellationToken.None);
        return await sender.SendAsync(_rpc, _network, data, gas + i, long.MaxValue, CancellationToken.None);
    }

    /// <summary>How an address shows in a raw transaction's hex: in a call's data, or as the recipient of a filler.</summary>
    private static string Tag(EvmAddress address) => address.ToLowerHex()[2..];

    private async Task<BigInteger> CountAsync(string block) =>
        Quantity(await chain.Rpc.CallAsync("eth_getTransactionCount", _wallet.Address.ToLowerHex(), block));

    private async Task<BigInteger> NonceOfAsync(string hash) =>
        Quantity((await chain.Rpc.CallAsync("eth_getTransactionByHash", hash)).GetProperty("nonce"));

    /// <summary>
    /// Mined up to this count, and nothing of ours left waiting in the pool behind a gap (a nonce at or past the count).
    /// A replacement that lost to its original stays listed under a mined nonce until anvil drops it: that waits for nothing.
    /// </summary>
    private async Task WaitAllMinedAsync(GasWalletSender sender, BigInteger count)
    {
        await Poll.UntilAsync(async () =>
        {
            if (await CountAsync("latest") == count)
            {
                return true;
            }
            await sender.CloseGapsAsync(_direct, _network, CancellationToken.None);
            return false;
        }, TimeSpan.FromSeconds(60));
        var pool = await chain.Rpc.CallAsync("txpool_content");
        var address = _wallet.Address.ToLowerHex();
        foreach (var section in new[] { "pending", "queued" })
        {
            var ours = pool.GetProperty(section).EnumerateObject().Where(e => e.Name.Equals(address, StringComparison.OrdinalIgnoreCase));
            Assert.DoesNotContain(ours.SelectMany(e => e.Value.EnumerateObject()), n => BigInteger.Parse(n.Name, CultureInfo.InvariantCulture) >= count);
        }
    }

    private static BigInteger Quantity(JsonElement hex) =>
        BigInteger.Parse("0" + hex.GetString()![2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
}
