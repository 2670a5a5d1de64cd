using System.Numerics;
using System.Security.Cryptography;
using System.Text.Json;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;

namespace X402Serverless.Tests.Support;

/// <summary>
/// A local chain with a real EIP-3009 token, the official x402 facilitator settling on it, a provider upstream
/// and the gateway in front. anvil runs as chain 84532 so x402 v1 clients (which only know named networks)
/// can pay it as "base-sepolia" while v2 clients pay "eip155:84532".
/// </summary>
public sealed class ChainFixture : IAsyncLifetime
{
    public const string V2Network = "eip155:84532";
    public const string V1Network = "base-sepolia";

    // anvil's well-known account #0 deploys the token and pays the official facilitator's gas (public test key).
    internal const string DeployerKey = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

    // anvil's account #1: the gateway's own gas wallet for the built-in facilitator.
    internal const string GasWalletKey = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

    private PeerProcess? _anvil;
    private PeerProcess? _facilitator;

    internal string RpcUrl { get; private set; } = "";

    internal string FacilitatorUrl { get; private set; } = "";

    internal EvmAddress Token { get; private set; }

    internal byte[] PayerKey { get; } = RandomNumberGenerator.GetBytes(32);

    internal EvmAddress Payer => Secp256k1.AddressOf(PayerKey);

    internal string PayerKeyHex => Hex.Encode(PayerKey);

    internal EthRpc Rpc { get; private set; } = null!;

    internal TestUpstream Upstream { get; private set; } = null!;

    internal GatewayHost Gateway { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var port = PeerProcess.FreePort();
        RpcUrl = $"http://127.0.0.1:{port}";
        var anvilPath = Path.Combine(RepoPaths.Peers, "node_modules", "@foundry-rs", "anvil-linux-amd64", "bin", "anvil");
        _anvil = PeerProcess.Start(anvilPath, RepoPaths.Peers, "--host", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--chain-id", "84532", "--prune-history", "256");
        await _anvil.WaitForLineAsync("Listening on", TimeSpan.FromSeconds(30));
        Rpc = new EthRpc(RpcUrl);

        var deployed = await PeerProcess.RunNodeAsync(null, "deploy.mjs", RpcUrl, DeployerKey, Payer.ToString(), "1000000000");
        Token = EvmAddress.Parse(JsonDocument.Parse(deployed).RootElement.GetProperty("token").GetString()!);
        // Permit2 and the x402 exact Permit2 proxy (the tests' own contracts) at the addresses the official client signs for.
        await PeerProcess.RunNodeAsync(null, "deploy-permit2.mjs", RpcUrl, DeployerKey);
        // Multicall3 at its canonical address, as on public chains: the built-in facilitator batches settlements through it.
        await PeerProcess.RunNodeAsync(null, "deploy-multicall3.mjs", RpcUrl, DeployerKey);

        _facilitator = PeerProcess.Start("node", RepoPaths.Peers, "facilitator.mjs", RpcUrl, DeployerKey, V2Network, V1Network);
        var listening = await _facilitator.WaitForLineAsync("listening", TimeSpan.FromSeconds(60));
        FacilitatorUrl = $"http://127.0.0.1:{listening.Split(' ')[1]}";

        Upstream = await TestUpstream.StartAsync();
        // As under the Functions host, so tests can invoke its host-only routes (/Maintenance) the way the host does.
        Gateway = await GatewayHost.StartAsync(GatewayHost.UnderFunctionsHost(GatewaySettings(FacilitatorUrl)));
    }

    /// <summary>Configuration pointing a gateway at this chain's token and the given facilitator.</summary>
    internal Dictionary<string, string?> GatewaySettings(string facilitatorUrl) => new()
    {
        ["X402:FacilitatorUrl"] = facilitatorUrl,
        ["X402:DefaultNetworks:0"] = V2Network,
        ["X402:Networks:0:ChainId"] = "84532",
        ["X402:Networks:0:RpcUrl"] = RpcUrl,
        ["X402:Networks:0:Asset"] = Token.ToString(),
        ["X402:Networks:0:TokenName"] = "USD Coin",
        ["X402:Networks:0:TokenVersion"] = "2",
        ["X402:UpstreamTimeoutSeconds"] = "3",
        ["X402:Settlement:GasWalletKey"] = GasWalletKey,
        ["X402:Settlement:WorkerIntervalMilliseconds"] = "100",
        ["X402:Settlement:RetryFirstMilliseconds"] = "200",
        ["X402:Settlement:RetryCapMilliseconds"] = "1000",
        ["X402:Settlement:ReceiptTimeoutSeconds"] = "10",
        ["X402:Credits:TopUpPayTo"] = TopUpWallet,
    };

    /// <summary>The operator's wallet that receives USDC top-ups.</summary>
    internal const string TopUpWallet = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";

    /// <summary>A fresh gas wallet with ETH, so a test's own gateway never shares nonces with another's.</summary>
    internal async Task<string> FundedWalletAsync(string weiHex = "0x56BC75E2D63100000")
    {
        var key = RandomNumberGenerator.GetBytes(32);
        await Rpc.CallAsync("anvil_setBalance", Secp256k1.AddressOf(key).ToLowerHex(), weiHex);
        return Hex.Encode(key);
    }

    /// <summary>
    /// A new payer holding <paramref name="atomic"/> token units and ETH for gas, that has approved Permit2 for
    /// <paramref name="approve"/> ("max", an atomic amount, or "none"). Its key.
    /// </summary>
    internal async Task<byte[]> Permit2PayerAsync(long atomic = 1_000_000, string approve = "max")
    {
        var key = RandomNumberGenerator.GetBytes(32);
        await Rpc.CallAsync("anvil_setBalance", Secp256k1.AddressOf(key).ToLowerHex(), "0x56BC75E2D63100000");
        await Rpc.CallAsync("anvil_setBalance", Payer.ToLowerHex(), "0x56BC75E2D63100000");
        await PeerProcess.RunNodeAsync(null, "permit2-payer.mjs", RpcUrl, PayerKeyHex, Hex.Encode(key), Token.ToString(),
            atomic.ToString(System.Globalization.CultureInfo.InvariantCulture), approve);
        return key;
    }

    internal static EvmAddress NewAddress() => Secp256k1.AddressOf(RandomNumberGenerator.GetBytes(32));

    internal Task<BigInteger> BalanceAsync(EvmAddress owner) => Rpc.BalanceOfAsync(Token, owner);

    /// <summary>A link on the test upstream at a path unique to the caller, paying a fresh address.</summary>
    internal async Task<PaidTestLink> CreateLinkAsync(string kind = "ok", string price = "0.01", GatewayHost? gateway = null,
        string settlement = "sync", string? facilitator = null, string kycLevel = "none", string? deferredPayers = null)
    {
        var path = $"/{kind}/{Guid.NewGuid():N}";
        var payTo = NewAddress();
        var (id, url) = await (gateway ?? Gateway).CreateLinkAsync(new
        {
            upstream = Upstream.BaseUrl + path,
            price,
            payTo = payTo.ToString(),
            name = "Test API",
            settlement,
            facilitator,
            kycLevel,
            deferredPayers,
        });
        return new PaidTestLink(id, url, path, payTo);
    }

    /// <summary>
    /// TestGasBurner's runtime code at <paramref name="at"/> (its creation code run by a deployless call returns it): code
    /// at a payer's address, as an EIP-7702 delegation puts it, that burns gas in the token's signature check.
    /// </summary>
    public async Task PlaceGasBurnerAsync(EvmAddress at)
    {
        var creation = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(RepoPaths.Peers, "build", "TestGasBurner.json")))
            .RootElement.GetProperty("bytecode").GetString()!;
        var runtime = (await Rpc.CallAsync("eth_call", new { data = creation }, "latest")).GetString()!;
        await Rpc.CallAsync("anvil_setCode", at.ToLowerHex(), runtime);
    }

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Upstream.DisposeAsync();
        Rpc.Dispose();
        if (_facilitator is not null)
        {
            await _facilitator.DisposeAsync();
        }
        if (_anvil is not null)
        {
            await _anvil.DisposeAsync();
        }
    }
}

internal sealed record PaidTestLink(string Id, string Url, string UpstreamPath, EvmAddress PayTo);

[CollectionDefinition(Name)]
public sealed class ChainGroup : ICollectionFixture<ChainFixture>
{
    public const string Name = "chain";
}
