using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using X402Serverless.Core.Chain;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Facilitation;
using X402Serverless.Core.Networks;
using X402Serverless.Core.Protocol;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.EndToEnd.PaidLinkClient;

namespace X402Serverless.Tests.Chain;

/// <summary>
/// The built-in facilitator settles EIP-3009 transfers that arrive while a send is under way together, in one Multicall3
/// aggregate3 transaction, on the shared chain (Multicall3 at its canonical address). To make a batch without relying on
/// timing, the first settlement's eth_sendRawTransaction is held on its way to the node until the others are seen
/// queued behind it; then they go as one transaction. Each payment counts only for its own transfer in the receipt:
/// one burned or drained before the batch is mined is refused with its own reason while the others settle.
/// Each test has its own gas wallet and facilitator.
/// </summary>
[Collection(ChainGroup.Name)]
public sealed class SettlementBatchingTests(ChainFixture chain) : IAsyncLifetime, IDisposable
{
    private const long ChainId = 84532;
    private readonly SendGate _gate = new() { InnerHandler = new HttpClientHandler() };
    private HttpClient _http = null!;
    private GasWallet _wallet = null!;
    private JsonObject _requirement = null!;

    public async Task InitializeAsync()
    {
        _http = new HttpClient(_gate);
        _wallet = new GasWallet(await chain.FundedWalletAsync());
        _requirement = await RequirementAsync((await chain.CreateLinkAsync(facilitator: "builtin")).Url);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => _http.Dispose();

    [Fact]
    public async Task Transfers_arriving_during_a_send_go_in_one_batch_each_settled_by_its_own_transfer()
    {
        using var facilitator = NewFacilitator();
        var lead = NewPayment(chain.PayerKey);
        var followers = Enumerable.Range(0, 6).Select(_ => NewPayment(chain.PayerKey)).ToList();

        var (leadOutcome, outcomes) = await HeldBatchAsync(facilitator, lead, followers);

        Assert.True(leadOutcome.Success, leadOutcome.ErrorReason);
        Assert.All(outcomes, o => Assert.True(o.Success, o.ErrorReason));
        var batchHash = Assert.Single(outcomes.Select(o => o.Transaction!.ToLowerInvariant()).Distinct());
        Assert.NotEqual(leadOutcome.Transaction!.ToLowerInvariant(), batchHash);
        Assert.Equal(Multicall3Calls.Canonical.ToLowerHex(), await ToOfAsync(batchHash));
        Assert.Equal(chain.Token.ToLowerHex(), await ToOfAsync(leadOutcome.Transaction!)); // the lone one went to the token, as ever
        foreach (var payment in followers.Append(lead))
        {
            Assert.Equal(1, await chain.Rpc.TransferLogCountAsync(chain.Token, payment.PayTo));
            Assert.Equal(payment.Amount, await chain.BalanceAsync(payment.PayTo));
        }

        // Settling them again reports the batch for each (idempotent), and sends nothing.
        var again = await facilitator.SettleAsync(followers[3].Request, CancellationToken.None);
        Assert.True(again.Success, again.ErrorReason);
        Assert.Equal(batchHash, again.Transaction!.ToLowerInvariant());
        Assert.Equal(1, await chain.Rpc.TransferLogCountAsync(chain.Token, followers[3].PayTo));
    }

    [Fact]
    public async Task The_same_authorization_queued_many_times_for_one_batch_is_sent_once_and_paid_once()
    {
        using var facilitator = NewFacilitator();
        var start = await NonceCountAsync();
        var lead = NewPayment(chain.PayerKey);
        var replayed = NewPayment(chain.PayerKey);
        var other = NewPayment(chain.PayerKey);
        // A replay storm of one payment while a batch forms: it rides in the batch as one call, every caller told its hash.
        List<(SettleRequest Request, EvmAddress PayTo, BigInteger Amount, byte[] Nonce)> followers = [.. Enumerable.Repeat(replayed, 8), other];

        var (leadOutcome, outcomes) = await HeldBatchAsync(facilitator, lead, followers);

        Assert.True(leadOutcome.Success, leadOutcome.ErrorReason);
        Assert.All(outcomes, o => Assert.True(o.Success, o.ErrorReason));
        var batchHash = Assert.Single(outcomes.Select(o => o.Transaction!.ToLowerInvariant()).Distinct());
        Assert.Equal(Multicall3Calls.Canonical.ToLowerHex(), await ToOfAsync(batchHash));
        Assert.Equal(1, await chain.Rpc.TransferLogCountAsync(chain.Token, replayed.PayTo));
        Assert.Equal(replayed.Amount, await chain.BalanceAsync(replayed.PayTo));
        Assert.Equal(1, await chain.Rpc.TransferLogCountAsync(chain.Token, other.PayTo));
        Assert.Equal(start + 2, await NonceCountAsync()); // the lead's transaction and one batch
    }

    [Fact]
    public async Task A_burned_and_a_drained_authorization_in_a_batch_are_refused_and_the_others_settle()
    {
        using var facilitator = NewFacilitator();
        var lead = NewPayment(chain.PayerKey);
        var burned = NewPayment(chain.PayerKey);
        var amount = BigInteger.Parse(_requirement["amount"]!.GetValue<string>(), CultureInfo.InvariantCulture);
        var drainedKey = await NonceBurner.FundedPayerAsync(chain, amount);
        var drained = NewPayment(drainedKey);
        var honest = Enumerable.Range(0, 3).Select(_ => NewPayment(chain.PayerKey)).ToList();
        List<(SettleRequest Request, EvmAddress PayTo, BigInteger Amount, byte[] Nonce)> followers = [honest[0], burned, honest[1], drained, honest[2]];

        var (leadOutcome, outcomes) = await HeldBatchAsync(facilitator, lead, followers, async () =>
        {
            // After every check passed and before the batch is mined: one nonce burned by its payer, one payer emptied.
            await NonceBurner.BurnAsync(chain, chain.PayerKey, burned.Nonce);
            var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            await NonceBurner.SubmitAsync(chain,
                new TransferAuthorization(Secp256k1.AddressOf(drainedKey), ChainFixture.NewAddress(), amount, 0, now + 3600, RandomNumberGenerator.GetBytes(32)), drainedKey);
        });

        Assert.True(leadOutcome.Success, leadOutcome.ErrorReason);
        var burnedOutcome = outcomes[1];
        Assert.False(burnedOutcome.Success);
        Assert.Equal(ReasonCodes.AuthorizationConsumedElsewhere, burnedOutcome.ErrorReason);
        // The drained payer's transfer failed in the batch: settled again alone, which the chain's reads refuse.
        var drainedOutcome = outcomes[3];
        Assert.False(drainedOutcome.Success);
        Assert.Equal(RevertReasons.InsufficientBalance, drainedOutcome.ErrorReason);
        var honestOutcomes = new[] { outcomes[0], outcomes[2], outcomes[4] };
        Assert.All(honestOutcomes, o => Assert.True(o.Success, o.ErrorReason));
        Assert.Single(honestOutcomes.Select(o => o.Transaction!.ToLowerInvariant()).Distinct());
        foreach (var payment in honest.Append(lead))
        {
            Assert.Equal(1, await chain.Rpc.TransferLogCountAsync(chain.Token, payment.PayTo));
            Assert.Equal(payment.Amount, await chain.BalanceAsync(payment.PayTo));
        }
        Assert.Equal(0, await chain.Rpc.TransferLogCountAsync(chain.Token, burned.PayTo));
        Assert.Equal(0, await chain.Rpc.TransferLogCountAsync(chain.Token, drained.PayTo));
    }

    [Fact]
    public async Task A_payer_holding_code_is_sent_alone_while_the_others_batch()
    {
        // Code at an EOA (as an EIP-7702 delegation puts it) runs in its transfer: in a batch it could spend the gas of the
        // calls after it, so it never joins one. The ceiling is raised so this burner (about 600,000 gas) is settled at all.
        using var facilitator = NewFacilitator(maxTransferGas: 1_000_000);
        var amount = BigInteger.Parse(_requirement["amount"]!.GetValue<string>(), CultureInfo.InvariantCulture);
        var delegatedKey = await NonceBurner.FundedPayerAsync(chain, amount);
        await chain.PlaceGasBurnerAsync(Secp256k1.AddressOf(delegatedKey));
        var lead = NewPayment(chain.PayerKey);
        var delegated = NewPayment(delegatedKey);
        var followers = Enumerable.Range(0, 2).Select(_ => NewPayment(chain.PayerKey)).ToList();

        _gate.Arm();
        var leadTask = facilitator.SettleAsync(lead.Request, CancellationToken.None);
        await _gate.Held.WaitAsync(TimeSpan.FromSeconds(60));
        var followerTasks = followers.Select(p => facilitator.SettleAsync(p.Request, CancellationToken.None)).ToList();
        await Poll.UntilAsync(() => Task.FromResult(facilitator.QueuedForBatch(ChainId) == followers.Count), TimeSpan.FromSeconds(60));
        var delegatedTask = facilitator.SettleAsync(delegated.Request, CancellationToken.None);
        // Its checks done, it is sent on its own (its transaction reaches the node, behind the held one's nonce), never queued.
        await Poll.UntilAsync(() => Task.FromResult(_gate.Passed == 1), TimeSpan.FromSeconds(60));
        Assert.Equal(followers.Count, facilitator.QueuedForBatch(ChainId));
        _gate.Release();

        Assert.True((await leadTask).Success);
        var outcomes = await Task.WhenAll(followerTasks);
        Assert.All(outcomes, o => Assert.True(o.Success, o.ErrorReason));
        var batchHash = Assert.Single(outcomes.Select(o => o.Transaction!.ToLowerInvariant()).Distinct());
        Assert.Equal(Multicall3Calls.Canonical.ToLowerHex(), await ToOfAsync(batchHash));
        var alone = await delegatedTask;
        Assert.True(alone.Success, alone.ErrorReason);
        Assert.NotEqual(batchHash, alone.Transaction!.ToLowerInvariant());
        Assert.Equal(chain.Token.ToLowerHex(), await ToOfAsync(alone.Transaction!));
        Assert.Equal(amount, await chain.BalanceAsync(delegated.PayTo));
    }

    [Fact]
    public async Task A_settlement_given_up_while_queued_for_a_batch_leaves_it_and_sends_nothing()
    {
        using var facilitator = NewFacilitator();
        var start = await NonceCountAsync();
        var lead = NewPayment(chain.PayerKey);
        var abandoned = NewPayment(chain.PayerKey);
        var kept = NewPayment(chain.PayerKey);

        _gate.Arm();
        var leadTask = facilitator.SettleAsync(lead.Request, CancellationToken.None);
        await _gate.Held.WaitAsync(TimeSpan.FromSeconds(60));
        using var giveUp = new CancellationTokenSource();
        var abandonedTask = facilitator.SettleAsync(abandoned.Request, giveUp.Token);
        var keptTask = facilitator.SettleAsync(kept.Request, CancellationToken.None);
        await Poll.UntilAsync(() => Task.FromResult(facilitator.QueuedForBatch(ChainId) == 2), TimeSpan.FromSeconds(60));
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandonedTask);
        Assert.Equal(1, facilitator.QueuedForBatch(ChainId));
        _gate.Release();

        Assert.True((await leadTask).Success);
        var keptOutcome = await keptTask;
        Assert.True(keptOutcome.Success, keptOutcome.ErrorReason);
        Assert.Equal(chain.Token.ToLowerHex(), await ToOfAsync(keptOutcome.Transaction!)); // alone now: the queue held only it
        // Nothing was sent for the one given up: no transfer to it, and its authorization is unused (it may be settled later).
        Assert.Equal(0, await chain.Rpc.TransferLogCountAsync(chain.Token, abandoned.PayTo));
        Assert.Equal(start + 2, await NonceCountAsync());
        var later = await facilitator.SettleAsync(abandoned.Request, CancellationToken.None);
        Assert.True(later.Success, later.ErrorReason);
        Assert.Equal(abandoned.Amount, await chain.BalanceAsync(abandoned.PayTo));
    }

    [Fact]
    public async Task A_retry_of_a_transfer_whose_batch_the_node_dropped_sends_the_same_batch_again()
    {
        using var facilitator = NewFacilitator(receiptTimeout: TimeSpan.FromSeconds(1));
        var start = await NonceCountAsync();
        var lead = NewPayment(chain.PayerKey);
        var followers = Enumerable.Range(0, 3).Select(_ => NewPayment(chain.PayerKey)).ToList();

        await chain.Rpc.CallAsync("evm_setAutomine", false);
        SettleOutcome[] pending;
        try
        {
            var (leadPending, followersPending) = await HeldBatchAsync(facilitator, lead, followers);
            pending = followersPending;
            Assert.All(pending.Append(leadPending), o => Assert.Equal(BuiltInFacilitator.SettlementPending, o.ErrorReason));
            await chain.Rpc.CallAsync("anvil_dropTransaction", pending[0].Transaction!);
            await chain.Rpc.CallAsync("evm_mine"); // the lead alone is mined; the batch is gone from the pool
        }
        finally
        {
            await chain.Rpc.CallAsync("evm_setAutomine", true);
        }

        // A retry of any one of them (as the settlement worker makes it) sends the batch's own signed bytes again.
        var retried = await facilitator.SettleAsync(followers[1].Request, CancellationToken.None);
        Assert.True(retried.Success, retried.ErrorReason);
        Assert.Equal(pending[0].Transaction, retried.Transaction);
        foreach (var payment in followers)
        {
            var outcome = await facilitator.SettleAsync(payment.Request, CancellationToken.None);
            Assert.True(outcome.Success, outcome.ErrorReason);
            Assert.Equal(pending[0].Transaction!, outcome.Transaction!, StringComparer.OrdinalIgnoreCase);
            Assert.Equal(1, await chain.Rpc.TransferLogCountAsync(chain.Token, payment.PayTo));
        }
        Assert.Equal(start + 2, await NonceCountAsync()); // two nonces: the lead's and the batch's, none opened for the retry
    }

    [Fact]
    public async Task A_send_waits_for_a_settlement_whose_checks_are_under_way_and_both_go_in_one_batch()
    {
        // A window far longer than the test: only the other's arrival can end the wait.
        using var facilitator = NewFacilitator(gatherWindow: TimeSpan.FromMinutes(10));
        var slow = NewPayment(chain.PayerKey);
        var fast = NewPayment(chain.PayerKey);

        var (slowTask, fastTask) = await WaitingBehindChecksAsync(facilitator, slow, fast);
        Assert.Equal(0, _gate.Passed);
        _gate.ReleaseChecks();

        var outcomes = await Task.WhenAll(slowTask, fastTask).WaitAsync(TimeSpan.FromSeconds(120));
        Assert.All(outcomes, o => Assert.True(o.Success, o.ErrorReason));
        var batchHash = Assert.Single(outcomes.Select(o => o.Transaction!.ToLowerInvariant()).Distinct());
        Assert.Equal(Multicall3Calls.Canonical.ToLowerHex(), await ToOfAsync(batchHash));
        Assert.Equal(1, _gate.Passed);
        foreach (var payment in new[] { slow, fast })
        {
            Assert.Equal(1, await chain.Rpc.TransferLogCountAsync(chain.Token, payment.PayTo));
        }
    }

    [Fact]
    public async Task A_settlement_refused_in_its_checks_ends_the_wait_and_the_other_goes_alone()
    {
        using var facilitator = NewFacilitator(gatherWindow: TimeSpan.FromMinutes(10));
        var burned = NewPayment(chain.PayerKey);
        var fast = NewPayment(chain.PayerKey);

        var (burnedTask, fastTask) = await WaitingBehindChecksAsync(facilitator, burned, fast);
        await NonceBurner.BurnAsync(chain, chain.PayerKey, burned.Nonce); // its payer burns the nonce before its checks read it
        _gate.ReleaseChecks();

        var refused = await burnedTask.WaitAsync(TimeSpan.FromSeconds(120));
        Assert.False(refused.Success);
        Assert.Equal(ReasonCodes.AuthorizationConsumedElsewhere, refused.ErrorReason);
        var alone = await fastTask.WaitAsync(TimeSpan.FromSeconds(120));
        Assert.True(alone.Success, alone.ErrorReason);
        Assert.Equal(chain.Token.ToLowerHex(), await ToOfAsync(alone.Transaction!));
        Assert.Equal(0, await chain.Rpc.TransferLogCountAsync(chain.Token, burned.PayTo));
        Assert.Equal(1, await chain.Rpc.TransferLogCountAsync(chain.Token, fast.PayTo));
    }

    [Fact]
    public async Task The_wait_for_a_settlement_still_in_its_checks_ends_with_the_window_and_it_settles_later()
    {
        using var facilitator = NewFacilitator(gatherWindow: TimeSpan.FromMilliseconds(200));
        var stuck = NewPayment(chain.PayerKey);
        var fast = NewPayment(chain.PayerKey);

        _gate.HoldChecksOf(stuck.Nonce);
        var stuckTask = facilitator.SettleAsync(stuck.Request, CancellationToken.None);
        await _gate.ChecksHeld.WaitAsync(TimeSpan.FromSeconds(60));
        // The other's checks never end while this one is settled: it goes alone once the window has passed.
        var alone = await facilitator.SettleAsync(fast.Request, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(120));
        Assert.True(alone.Success, alone.ErrorReason);
        Assert.Equal(chain.Token.ToLowerHex(), await ToOfAsync(alone.Transaction!));
        Assert.False(stuckTask.IsCompleted);
        _gate.ReleaseChecks();

        var later = await stuckTask.WaitAsync(TimeSpan.FromSeconds(120));
        Assert.True(later.Success, later.ErrorReason);
        Assert.Equal(chain.Token.ToLowerHex(), await ToOfAsync(later.Transaction!));
        Assert.Equal(1, await chain.Rpc.TransferLogCountAsync(chain.Token, stuck.PayTo));
    }

    [Fact]
    public async Task A_replay_of_a_transfer_in_flight_does_not_hold_the_next_send_for_its_receipt_wait()
    {
        // A replay finds its transfer already sent and waits for that receipt: it joins no batch, so no send waits for it.
        using var facilitator = NewFacilitator(gatherWindow: TimeSpan.FromMinutes(10), receiptTimeout: TimeSpan.FromMinutes(5));
        var first = NewPayment(chain.PayerKey);
        var next = NewPayment(chain.PayerKey);
        var start = await NonceCountAsync();
        await chain.Rpc.CallAsync("evm_setAutomine", false);
        try
        {
            var firstTask = facilitator.SettleAsync(first.Request, CancellationToken.None);
            await Poll.UntilAsync(async () => await NonceCountAsync("pending") == start + 1, TimeSpan.FromSeconds(60)); // sent, not mined
            // Each replay sends the first one's bytes again (no new nonce), then waits for its receipt.
            var replays = Enumerable.Range(0, 4).Select(_ => facilitator.SettleAsync(first.Request, CancellationToken.None)).ToList();
            var nextTask = facilitator.SettleAsync(next.Request, CancellationToken.None);
            // Its own transaction reaches the node while the replays still wait for the first one's receipt (minutes, unmined).
            await Poll.UntilAsync(async () => await NonceCountAsync("pending") == start + 2, TimeSpan.FromSeconds(60));
            Assert.False(firstTask.IsCompleted);
            await chain.Rpc.CallAsync("evm_mine");

            var outcomes = await Task.WhenAll(replays.Append(firstTask).Append(nextTask)).WaitAsync(TimeSpan.FromSeconds(120));
            Assert.All(outcomes, o => Assert.True(o.Success, o.ErrorReason));
            Assert.Single(outcomes.SkipLast(1).Select(o => o.Transaction!.ToLowerInvariant()).Distinct());
            Assert.Equal(1, await chain.Rpc.TransferLogCountAsync(chain.Token, first.PayTo));
            Assert.Equal(1, await chain.Rpc.TransferLogCountAsync(chain.Token, next.PayTo));
        }
        finally
        {
            await chain.Rpc.CallAsync("evm_setAutomine", true);
        }
    }

    [Fact]
    public async Task A_lone_settlement_never_waits_for_the_window()
    {
        using var facilitator = NewFacilitator(gatherWindow: TimeSpan.FromMinutes(10));
        foreach (var payment in Enumerable.Range(0, 3).Select(_ => NewPayment(chain.PayerKey)))
        {
            var outcome = await facilitator.SettleAsync(payment.Request, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(120));
            Assert.True(outcome.Success, outcome.ErrorReason);
            Assert.Equal(chain.Token.ToLowerHex(), await ToOfAsync(outcome.Transaction!));
        }
        Assert.Equal(0, facilitator.QueuedForBatch(ChainId));
    }

    [Fact]
    public async Task Without_Multicall3_code_on_the_chain_every_transfer_goes_alone()
    {
        // The network names an address with no code as its Multicall3.
        using var facilitator = NewFacilitator(multicall3: ChainFixture.NewAddress().ToString());
        await AllAloneAsync(facilitator);
    }

    [Fact]
    public async Task A_batch_size_of_one_sends_every_transfer_alone()
    {
        using var facilitator = NewFacilitator(maxBatchTransfers: 1);
        await AllAloneAsync(facilitator);
    }

    [Fact]
    public void Multicall3_is_the_canonical_address_unless_a_network_names_another_and_junk_stops_the_start()
    {
        NetworkSettings Settings(string? multicall3) => new()
        {
            ChainId = 31337, RpcUrl = "http://127.0.0.1:1", Asset = "0x1111111111111111111111111111111111111111", TokenName = "USD Coin", TokenVersion = "2",
            Multicall3 = multicall3,
        };
        Assert.True(new NetworkRegistry([Settings(null)]).TryGet("eip155:31337", out var canonical));
        Assert.Equal(EvmAddress.Parse("0xcA11bde05977b3631167028862bE2a173976CA11"), canonical.Multicall3);
        var other = ChainFixture.NewAddress();
        Assert.True(new NetworkRegistry([Settings(other.ToString())]).TryGet("eip155:31337", out var configured));
        Assert.Equal(other, configured.Multicall3);
        var error = Assert.Throws<InvalidOperationException>(() => new NetworkRegistry([Settings("not-an-address")]));
        Assert.Contains("Multicall3 must be a 0x address", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Aggregate3_call_data_has_the_abi_layout()
    {
        var a = EvmAddress.Parse("0x1111111111111111111111111111111111111111");
        var data = Multicall3Calls.Aggregate3AllowingFailure([(a, [0xAA, 0xBB]), (a, new byte[33])]);
        Assert.Equal("82ad56cb", Convert.ToHexStringLower(data[..4]));
        var words = Enumerable.Range(0, (data.Length - 4) / 32).Select(i => Convert.ToHexStringLower(data.AsSpan(4 + 32 * i, 32))).ToList();
        BigInteger Word(int i) => BigInteger.Parse("0" + words[i], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        Assert.Equal(32, Word(0)); // the array's offset
        Assert.Equal(2, Word(1)); // its length
        Assert.Equal(64, Word(2)); // first tuple, after the two offsets
        Assert.Equal(64 + 160, Word(3)); // second: the first's 4 words and one of data
        Assert.EndsWith(a.ToLowerHex()[2..], words[4]);
        Assert.Equal(1, Word(5)); // allowFailure
        Assert.Equal(96, Word(6));
        Assert.Equal(2, Word(7));
        Assert.StartsWith("aabb00", words[8]);
        Assert.Equal(33, Word(12));
        Assert.Equal(15, words.Count);
    }

    /// <summary>Eight settlements at once, with no batch possible: eight transactions, each to the token.</summary>
    private async Task AllAloneAsync(BuiltInFacilitator facilitator)
    {
        var payments = Enumerable.Range(0, 8).Select(_ => NewPayment(chain.PayerKey)).ToList();
        var outcomes = await Task.WhenAll(payments.Select(p => facilitator.SettleAsync(p.Request, CancellationToken.None)));
        Assert.All(outcomes, o => Assert.True(o.Success, o.ErrorReason));
        Assert.Equal(8, outcomes.Select(o => o.Transaction!.ToLowerInvariant()).Distinct().Count());
        foreach (var outcome in outcomes)
        {
            Assert.Equal(chain.Token.ToLowerHex(), await ToOfAsync(outcome.Transaction!));
        }
        foreach (var payment in payments)
        {
            Assert.Equal(1, await chain.Rpc.TransferLogCountAsync(chain.Token, payment.PayTo));
        }
        Assert.Equal(0, facilitator.QueuedForBatch(ChainId));
    }

    /// <summary>
    /// Settles <paramref name="lead"/> with its send held at the node's door, then the followers, which queue behind it;
    /// once all are queued, <paramref name="beforeRelease"/> runs and the send goes on. The followers' outcomes in order.
    /// </summary>
    private async Task<(SettleOutcome Lead, SettleOutcome[] Followers)> HeldBatchAsync(BuiltInFacilitator facilitator,
        (SettleRequest Request, EvmAddress PayTo, BigInteger Amount, byte[] Nonce) lead,
        List<(SettleRequest Request, EvmAddress PayTo, BigInteger Amount, byte[] Nonce)> followers, Func<Task>? beforeRelease = null)
    {
        _gate.Arm();
        var leadTask = facilitator.SettleAsync(lead.Request, CancellationToken.None);
        await _gate.Held.WaitAsync(TimeSpan.FromSeconds(60));
        var followerTasks = followers.Select(p => facilitator.SettleAsync(p.Request, CancellationToken.None)).ToList();
        await Poll.UntilAsync(() => Task.FromResult(facilitator.QueuedForBatch(ChainId) == followers.Count), TimeSpan.FromSeconds(60));
        if (beforeRelease is not null)
        {
            await beforeRelease();
        }
        _gate.Release();
        return (await leadTask, await Task.WhenAll(followerTasks));
    }

    /// <summary>
    /// Settles <paramref name="held"/> with its checks held at the node's door, then <paramref name="fast"/>, whose checks
    /// pass: it heads the lane and waits there for the held one. The checks stay held until <see cref="SendGate.ReleaseChecks"/>.
    /// </summary>
    private async Task<(Task<SettleOutcome> Held, Task<SettleOutcome> Fast)> WaitingBehindChecksAsync(BuiltInFacilitator facilitator,
        (SettleRequest Request, EvmAddress PayTo, BigInteger Amount, byte[] Nonce) held,
        (SettleRequest Request, EvmAddress PayTo, BigInteger Amount, byte[] Nonce) fast)
    {
        _gate.HoldChecksOf(held.Nonce);
        var heldTask = facilitator.SettleAsync(held.Request, CancellationToken.None);
        await _gate.ChecksHeld.WaitAsync(TimeSpan.FromSeconds(60));
        var fastTask = facilitator.SettleAsync(fast.Request, CancellationToken.None);
        await Poll.UntilAsync(() => Task.FromResult(facilitator.QueuedForBatch(ChainId) == 1), TimeSpan.FromSeconds(60));
        return (heldTask, fastTask);
    }

    private async Task<string> ToOfAsync(string hash) =>
        (await chain.Rpc.CallAsync("eth_getTransactionByHash", hash)).GetProperty("to").GetString()!.ToLowerInvariant();

    private async Task<BigInteger> NonceCountAsync(string block = "latest") =>
        BigInteger.Parse("0" + (await chain.Rpc.CallAsync("eth_getTransactionCount", _wallet.Address.ToLowerHex(), block)).GetString()![2..],
            NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    private BuiltInFacilitator NewFacilitator(string? multicall3 = null, int maxBatchTransfers = 16, TimeSpan? receiptTimeout = null, long maxTransferGas = 150_000,
        TimeSpan? gatherWindow = null)
    {
        var networks = new NetworkRegistry([new NetworkSettings
        {
            ChainId = ChainId, RpcUrl = chain.RpcUrl, Asset = chain.Token.ToString(), TokenName = "USD Coin", TokenVersion = "2", Decimals = 6,
            Multicall3 = multicall3,
        }]);
        var options = new BuiltInFacilitatorOptions
        {
            ReceiptTimeout = receiptTimeout ?? TimeSpan.FromSeconds(60), ReceiptPollInterval = TimeSpan.FromMilliseconds(100), MaxBatchTransfers = maxBatchTransfers,
            MaxTransferGas = maxTransferGas, BatchGatherWindow = gatherWindow ?? TimeSpan.FromMilliseconds(5),
        };
        var rpc = new EvmRpcClient(_http, new Uri(chain.RpcUrl));
        return new BuiltInFacilitator(networks, _wallet, _ => rpc, new PaymentVerifier(TimeProvider.System), options, TimeProvider.System);
    }

    /// <summary>A payment of the link's price from <paramref name="payerKey"/> to an address of its own, so its transfers can be counted.</summary>
    private (SettleRequest Request, EvmAddress PayTo, BigInteger Amount, byte[] Nonce) NewPayment(byte[] payerKey)
    {
        var payTo = ChainFixture.NewAddress();
        var requirement = _requirement.DeepClone().AsObject();
        requirement["payTo"] = payTo.ToString();
        var header = new PaymentBuilder { Requirement = requirement, PayerKey = payerKey }.V2Header();
        var payload = JsonDocument.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(header))).RootElement.Clone();
        var amount = BigInteger.Parse(requirement["amount"]!.GetValue<string>(), CultureInfo.InvariantCulture);
        var nonce = Hex.TryDecode(payload.GetProperty("payload").GetProperty("authorization").GetProperty("nonce").GetString()!, out var n) ? n : throw new InvalidOperationException("nonce");
        return (new SettleRequest(2, payload, requirement), payTo, amount, nonce);
    }

    /// <summary>
    /// Holds the first eth_sendRawTransaction after <see cref="Arm"/> until <see cref="Release"/>; and, after
    /// <see cref="HoldChecksOf"/>, every read that carries that authorization's nonce (its checks) until <see cref="ReleaseChecks"/>.
    /// </summary>
    private sealed class SendGate : DelegatingHandler
    {
        private string? _checksOf;
        private TaskCompletionSource _checksHeld = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private TaskCompletionSource _checksRelease = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _armed;
        private TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private int _passed;

        public Task Held => _held.Task;

        /// <summary>Transactions sent on to the node so far (the held one only once released).</summary>
        public int Passed => Volatile.Read(ref _passed);

        public void Arm()
        {
            _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
            _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _armed, 1);
        }

        public void Release() => _release.TrySetResult();

        public Task ChecksHeld => _checksHeld.Task;

        public void HoldChecksOf(byte[] nonce)
        {
            _checksHeld = new(TaskCreationOptions.RunContinuationsAsynchronously);
            _checksRelease = new(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _checksOf, Convert.ToHexStringLower(nonce));
        }

        public void ReleaseChecks()
        {
            Volatile.Write(ref _checksOf, null);
            _checksRelease.TrySetResult();
        }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken);
            var send = body.Contains("\"eth_sendRawTransaction\"", StringComparison.Ordinal);
            if (!send && Volatile.Read(ref _checksOf) is { } nonce && body.Contains(nonce, StringComparison.OrdinalIgnoreCase))
            {
                var release = _checksRelease.Task;
                _checksHeld.TrySetResult();
                await release.WaitAsync(TimeSpan.FromSeconds(120), cancellationToken);
            }
            if (send && Volatile.Read(ref _armed) == 1 && Interlocked.Exchange(ref _armed, 0) == 1)
            {
                _held.TrySetResult();
                await _release.Task.WaitAsync(TimeSpan.FromSeconds(120), cancellationToken);
            }
            if (send)
            {
                Interlocked.Increment(ref _passed);
            }
            return await base.SendAsync(request, cancellationToken);
        }
    }
}
