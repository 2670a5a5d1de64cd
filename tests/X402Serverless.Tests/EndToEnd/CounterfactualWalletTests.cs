using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Nethereum.ABI;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;
using X402Serverless.Tests.Chain;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.EndToEnd.PaidLinkClient;

namespace X402Serverless.Tests.EndToEnd;

/// <summary>
/// EIP-6492: a smart wallet pays before it exists. Its CREATE2 address holds the tokens, its owner signs, and the
/// signature is wrapped with the factory call that deploys it (tests/peers/contracts/TestWalletFactory.sol). The gateway
/// simulates deployment plus transfer; the built-in facilitator deploys the wallet, then settles.
/// </summary>
[Collection(ChainGroup.Name)]
public sealed class CounterfactualWalletTests(ChainFixture chain)
{
    [Fact]
    public async Task A_wallet_not_deployed_yet_pays_its_factory_deploys_it_and_the_transfer_settles()
    {
        var wallet = await CounterfactualAsync();
        await using var gateway = await GatewayAsync(wallet.Factory);
        var link = await chain.CreateLinkAsync(gateway: gateway, facilitator: "builtin");
        var requirement = await RequirementAsync(link.Url);
        Assert.Equal("0x", (await chain.Rpc.CallAsync("eth_getCode", wallet.Address.ToLowerHex(), "latest")).GetString());

        using var response = await SendAsync(link.Url, wallet.Pay(requirement).V2Header());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var settlement = SettlementOf(response);
        Assert.Equal(wallet.Address.ToString(), settlement.GetProperty("payer").GetString());
        Assert.Equal(1, await chain.Rpc.ReceiptStatusAsync(settlement.GetProperty("transaction").GetString()!));
        Assert.NotEqual("0x", (await chain.Rpc.CallAsync("eth_getCode", wallet.Address.ToLowerHex(), "latest")).GetString());
        Assert.Equal(10_000, await chain.BalanceAsync(link.PayTo));
        Assert.Equal(990_000, await chain.BalanceAsync(wallet.Address));
        Assert.Equal([$"{wallet.Factory.ToLowerHex()}:0x{Convert.ToHexStringLower(CreateWallet(wallet.Owner, wallet.Salt)[..4])}", $"{chain.Token.ToLowerHex()}:0xe3ee160e"],
            await SentToAsync()); // the deployment, then the transfer with the inner (65-byte) signature

        // The payer's client may go on wrapping; the wallet exists now, so nothing is deployed again. Or it stops.
        using (var wrappedAgain = await SendAsync(link.Url, wallet.Pay(requirement).V2Header()))
        {
            Assert.Equal(HttpStatusCode.OK, wrappedAgain.StatusCode);
        }
        using (var plain = await SendAsync(link.Url, (wallet.Pay(requirement) with { WrapSignature = null }).V2Header()))
        {
            Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        }
        Assert.Equal(1, (await SentToAsync()).Count(t => t.StartsWith(wallet.Factory.ToLowerHex(), StringComparison.Ordinal)));
        Assert.Equal(970_000, await chain.BalanceAsync(wallet.Address));
    }

    [Fact]
    public async Task Two_payments_from_one_undeployed_wallet_at_once_both_settle_and_it_is_deployed_once()
    {
        var wallet = await CounterfactualAsync();
        await using var gateway = await GatewayAsync(wallet.Factory);
        var links = new[]
        {
            await chain.CreateLinkAsync(gateway: gateway, facilitator: "builtin"), await chain.CreateLinkAsync(gateway: gateway, facilitator: "builtin"),
        };
        var headers = new List<(string Url, string Header)>();
        foreach (var link in links)
        {
            headers.Add((link.Url, wallet.Pay(await RequirementAsync(link.Url)).V2Header()));
        }

        var responses = await Task.WhenAll(headers.Select(h => SendAsync(h.Url, h.Header)));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(980_000, await chain.BalanceAsync(wallet.Address));
        // One deployment (the second payment shared the first's), two transfers.
        var sent = await SentToAsync();
        Assert.True(sent.Count(t => t.StartsWith(wallet.Factory.ToLowerHex(), StringComparison.Ordinal)) == 1, string.Join(", ", sent));
        Assert.True(sent.Count(t => t.StartsWith(chain.Token.ToLowerHex(), StringComparison.Ordinal)) == 2, string.Join(", ", sent));
    }

    [Fact]
    public async Task Junk_factories_calls_and_signatures_are_refused_before_any_gas_is_spent()
    {
        var wallet = await CounterfactualAsync();
        var stranger = await CounterfactualAsync(); // its factory is not on the gateway's list
        await using var gateway = await GatewayAsync(wallet.Factory);
        var link = await chain.CreateLinkAsync(gateway: gateway, facilitator: "builtin");
        var requirement = await RequirementAsync(link.Url);
        var otherSalt = RandomNumberGenerator.GetBytes(32);

        async Task<string> RefusalAsync(PaymentBuilder payment)
        {
            using var response = await SendAsync(link.Url, payment.V2Header());
            return await ErrorOfAsync(response);
        }

        // A factory the operator did not list.
        Assert.Equal("eip6492_factory_not_allowed", await RefusalAsync(stranger.Pay(requirement)));
        // The listed factory, but a call it reverts on.
        Assert.Equal("smart_wallet_deployment_failed", await RefusalAsync(wallet.Pay(requirement, [0xde, 0xad, 0xbe, 0xef])));
        // A call that deploys some other wallet, not authorization.from.
        Assert.Equal("smart_wallet_deployment_failed", await RefusalAsync(wallet.Pay(requirement, CreateWallet(wallet.Owner, otherSalt))));
        // A call that needs more gas than a deployment may take.
        Assert.Equal("smart_wallet_deployment_failed", await RefusalAsync(wallet.Pay(requirement, wallet.SlowCalldata)));
        // The right deployment, but a key the wallet will not have.
        Assert.Equal("invalid_exact_evm_signature", await RefusalAsync(wallet.Pay(requirement) with { SigningKey = RandomNumberGenerator.GetBytes(32) }));
        // A wallet that would be deployed but holds nothing.
        Assert.Equal("invalid_exact_evm_insufficient_balance",
            await RefusalAsync(wallet.Pay(requirement, CreateWallet(wallet.Owner, otherSalt)) with { From = await WalletAddressAsync(wallet.Factory, wallet.Owner, otherSalt) }));
        // The suffix on junk.
        Assert.Equal("invalid_exact_evm_signature", await RefusalAsync(wallet.Pay(requirement) with
        {
            WrapSignature = s => [.. s, .. Convert.FromHexString("6492649264926492649264926492649264926492649264926492649264926492")],
        }));

        Assert.Equal(0, await SentAsync());
        Assert.Equal("0x", (await chain.Rpc.CallAsync("eth_getCode", wallet.Address.ToLowerHex(), "latest")).GetString());
        Assert.Equal(1_000_000, await chain.BalanceAsync(wallet.Address));
        Assert.Equal(0, await chain.BalanceAsync(link.PayTo));
        Assert.Equal(0, chain.Upstream.Hits(link.UpstreamPath));
    }

    [Fact]
    public async Task Without_listed_factories_a_counterfactual_payment_is_refused()
    {
        var wallet = await CounterfactualAsync();
        await using var gateway = await GatewayAsync(null);
        var link = await chain.CreateLinkAsync(gateway: gateway, facilitator: "builtin");

        using var response = await SendAsync(link.Url, wallet.Pay(await RequirementAsync(link.Url)).V2Header());

        Assert.Equal("eip6492_factory_not_allowed", await ErrorOfAsync(response));
        Assert.Equal(0, await SentAsync());
    }

    [Fact]
    public async Task A_payment_below_the_deploy_minimum_is_refused_before_any_gas_and_one_at_it_deploys_the_wallet()
    {
        var wallet = await CounterfactualAsync();
        await using var gateway = await GatewayAsync(wallet.Factory, deployMinimum: "0.05");
        var cheap = await chain.CreateLinkAsync(gateway: gateway, facilitator: "builtin");
        var dear = await chain.CreateLinkAsync(price: "0.05", gateway: gateway, facilitator: "builtin");

        // Each deployment's gas is the operator's: a 0.01 payment from a wallet that does not exist yet is not worth it.
        using (var refused = await SendAsync(cheap.Url, wallet.Pay(await RequirementAsync(cheap.Url)).V2Header()))
        {
            Assert.Equal("eip6492_amount_too_low", await ErrorOfAsync(refused));
        }
        Assert.Equal(0, await SentAsync());
        Assert.Equal(0, chain.Upstream.Hits(cheap.UpstreamPath));

        using (var paid = await SendAsync(dear.Url, wallet.Pay(await RequirementAsync(dear.Url)).V2Header()))
        {
            Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
        }
        // Deployed now, the wallet pays any price, wrapped or not.
        using (var later = await SendAsync(cheap.Url, wallet.Pay(await RequirementAsync(cheap.Url)).V2Header()))
        {
            Assert.Equal(HttpStatusCode.OK, later.StatusCode);
        }
        Assert.Equal(1_000_000 - 50_000 - 10_000, await chain.BalanceAsync(wallet.Address));
    }

    private sealed record Counterfactual(EvmAddress Factory, EvmAddress Address, byte[] OwnerKey, byte[] Salt, byte[] SlowCalldata)
    {
        public EvmAddress Owner => Secp256k1.AddressOf(OwnerKey);

        /// <summary>A payment from the wallet, its owner's signature wrapped with <paramref name="factoryCalldata"/> (by default the call that deploys it).</summary>
        public PaymentBuilder Pay(System.Text.Json.Nodes.JsonObject requirement, byte[]? factoryCalldata = null) => new()
        {
            Requirement = requirement,
            PayerKey = OwnerKey,
            From = Address,
            WrapSignature = s => Erc6492Tests.Wrap(Factory, factoryCalldata ?? CreateWallet(Owner, Salt), s),
        };
    }

    private static byte[] CreateWallet(EvmAddress owner, byte[] salt) =>
        [.. Keccak256.Hash("createWallet(address,bytes32)"u8.ToArray())[..4],
            .. new ABIEncode().GetABIEncoded(new ABIValue("address", owner.ToLowerHex()), new ABIValue("bytes32", salt))];

    private async Task<EvmAddress> WalletAddressAsync(EvmAddress factory, EvmAddress owner, byte[] salt)
    {
        byte[] data = [.. Keccak256.Hash("walletAddress(address,bytes32)"u8.ToArray())[..4],
            .. new ABIEncode().GetABIEncoded(new ABIValue("address", owner.ToLowerHex()), new ABIValue("bytes32", salt))];
        var word = Hex.Decode((await chain.Rpc.CallAsync("eth_call", new { to = factory.ToLowerHex(), data = Hex.Encode(data) }, "latest")).GetString()!);
        return new EvmAddress(word[12..]);
    }

    /// <summary>A factory, and the address of the wallet it would deploy for a fresh owner, holding 1 USDC and no code.</summary>
    private async Task<Counterfactual> CounterfactualAsync()
    {
        var owner = RandomNumberGenerator.GetBytes(32);
        await chain.Rpc.CallAsync("anvil_setBalance", chain.Payer.ToLowerHex(), "0x56BC75E2D63100000");
        var output = await PeerProcess.RunNodeAsync(null, "counterfactual-wallet.mjs", chain.RpcUrl, chain.PayerKeyHex,
            Secp256k1.AddressOf(owner).ToString(), chain.Token.ToString(), "1000000");
        var json = JsonDocument.Parse(output.Trim().Split('\n').Last()).RootElement;
        return new Counterfactual(
            EvmAddress.Parse(json.GetProperty("factory").GetString()!),
            EvmAddress.Parse(json.GetProperty("wallet").GetString()!),
            owner,
            Hex.Decode(json.GetProperty("salt").GetString()!),
            Hex.Decode(json.GetProperty("slowCalldata").GetString()!));
    }

    private string _gasWallet = "";

    private long _startBlock;

    /// <summary>A gateway with its own fresh gas wallet, deploying through <paramref name="factory"/> (or through none).</summary>
    /// <param name="deployMinimum">Settlement:SmartWalletDeployMinimum: the links here cost 0.01, so the default (0.10) is lowered.</param>
    private async Task<GatewayHost> GatewayAsync(EvmAddress? factory, string deployMinimum = "0.01")
    {
        var settings = chain.GatewaySettings(chain.FacilitatorUrl);
        _gasWallet = await chain.FundedWalletAsync();
        _startBlock = Convert.ToInt64((await chain.Rpc.CallAsync("eth_blockNumber")).GetString(), 16);
        settings["X402:Settlement:GasWalletKey"] = _gasWallet;
        settings["X402:Settlement:SmartWalletDeployMinimum"] = deployMinimum;
        if (factory is { } listed)
        {
            settings["X402:Settlement:SmartWalletFactories:0"] = listed.ToString();
        }
        return await GatewayHost.StartAsync(settings);
    }

    /// <summary>How many transactions the test gateway's gas wallet has sent.</summary>
    private async Task<int> SentAsync() => (await SentToAsync()).Count;

    /// <summary>The gas wallet's mined transactions, as "to:selector", oldest first (read block by block: anvil's chain is short).</summary>
    private async Task<List<string>> SentToAsync()
    {
        var sender = Secp256k1.AddressOf(Hex.Decode(_gasWallet)).ToLowerHex();
        var head = Convert.ToInt64((await chain.Rpc.CallAsync("eth_blockNumber")).GetString(), 16);
        var sent = new List<string>();
        for (var n = _startBlock; n <= head; n++)
        {
            var block = await chain.Rpc.CallAsync("eth_getBlockByNumber", "0x" + n.ToString("x", System.Globalization.CultureInfo.InvariantCulture), true);
            foreach (var tx in block.GetProperty("transactions").EnumerateArray().Where(t => t.GetProperty("from").GetString() == sender))
            {
                var input = tx.GetProperty("input").GetString()!;
                sent.Add($"{tx.GetProperty("to").GetString()}:{input[..Math.Min(10, input.Length)]}");
            }
        }
        return sent;
    }
}
