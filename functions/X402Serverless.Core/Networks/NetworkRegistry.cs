using System.Collections.Frozen;
using X402Serverless.Core.Evm;

namespace X402Serverless.Core.Networks;

/// <summary>
/// The chains a deployment accepts payments on: Base and Base Sepolia with their USDC built in, plus whatever
/// configuration adds or overrides (a local chain, another L2).
/// </summary>
public sealed class NetworkRegistry
{
    // x402 v1 used plain names; v2 uses CAIP-2. This is the standard mapping.
    private static readonly FrozenDictionary<long, string> V1Names = new Dictionary<long, string>
    {
        [8453] = "base", [84532] = "base-sepolia", [43114] = "avalanche", [43113] = "avalanche-fuji",
        [1] = "ethereum", [11155111] = "sepolia", [137] = "polygon", [80002] = "polygon-amoy", [4689] = "iotex",
        [1329] = "sei", [1328] = "sei-testnet", [2741] = "abstract", [11124] = "abstract-testnet", [3338] = "peaq",
        [1514] = "story", [41923] = "educhain", [324705682] = "skale-base-sepolia", [4326] = "megaeth",
        [143] = "monad", [988] = "stable", [2201] = "stable-testnet",
    }.ToFrozenDictionary();

    private static readonly NetworkSettings[] BuiltIn =
    [
        new() { ChainId = 8453, Asset = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", TokenName = "USD Coin", TokenVersion = "2", Decimals = 6, RpcUrl = "https://mainnet.base.org", ExplorerUrl = "https://basescan.org" },
        new() { ChainId = 84532, Asset = "0x036CbD53842c5426634e7929541eC2318f3dCF7e", TokenName = "USDC", TokenVersion = "2", Decimals = 6, RpcUrl = "https://sepolia.base.org", ExplorerUrl = "https://sepolia.basescan.org" },
    ];

    private readonly FrozenDictionary<string, EvmNetwork> _byId;
    private readonly FrozenDictionary<string, EvmNetwork> _byV1Name;

    public NetworkRegistry(IEnumerable<NetworkSettings> configured)
    {
        var merged = new Dictionary<long, NetworkSettings>();
        foreach (var s in BuiltIn)
        {
            merged[s.ChainId!.Value] = s;
        }
        foreach (var s in configured)
        {
            var chainId = ResolveChainId(s);
            merged[chainId] = merged.TryGetValue(chainId, out var existing) ? Overlay(existing, s, chainId) : Overlay(new NetworkSettings(), s, chainId);
        }
        var networks = merged.Values.Select(Build).ToList();
        _byId = networks.ToFrozenDictionary(n => n.Id, StringComparer.OrdinalIgnoreCase);
        _byV1Name = networks.Where(n => n.V1Name is not null).ToFrozenDictionary(n => n.V1Name!, StringComparer.OrdinalIgnoreCase);
    }

    public IReadOnlyCollection<EvmNetwork> All => _byId.Values;

    public bool TryGet(string id, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out EvmNetwork? network) =>
        _byId.TryGetValue(id, out network);

    public bool TryGetByV1Name(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out EvmNetwork? network) =>
        _byV1Name.TryGetValue(name, out network);

    private static long ResolveChainId(NetworkSettings s)
    {
        if (s.ChainId is { } id)
        {
            return id;
        }
        if (s.Id is { } caip && caip.StartsWith("eip155:", StringComparison.Ordinal) && long.TryParse(caip.AsSpan(7), out var parsed))
        {
            return parsed;
        }
        throw new InvalidOperationException($"Network '{s.Id}' needs a ChainId or an 'eip155:<chainId>' Id.");
    }

    private static NetworkSettings Overlay(NetworkSettings baseSettings, NetworkSettings over, long chainId) => new()
    {
        ChainId = chainId,
        V1Name = over.V1Name ?? baseSettings.V1Name,
        RpcUrl = over.RpcUrl ?? baseSettings.RpcUrl,
        Asset = over.Asset ?? baseSettings.Asset,
        TokenName = over.TokenName ?? baseSettings.TokenName,
        TokenVersion = over.TokenVersion ?? baseSettings.TokenVersion,
        Decimals = over.Decimals ?? baseSettings.Decimals,
        ExplorerUrl = over.ExplorerUrl ?? baseSettings.ExplorerUrl,
        LogRangeBlocks = over.LogRangeBlocks ?? baseSettings.LogRangeBlocks,
        LogLookbackBlocks = over.LogLookbackBlocks ?? baseSettings.LogLookbackBlocks,
        Multicall3 = over.Multicall3 ?? baseSettings.Multicall3,
    };

    private static EvmNetwork Build(NetworkSettings s)
    {
        var chainId = s.ChainId!.Value;
        var id = $"eip155:{chainId}";
        if (!EvmAddress.TryParse(s.Asset, out var asset))
        {
            throw new InvalidOperationException($"Network {id}: Asset must be the token contract address.");
        }
        if (string.IsNullOrEmpty(s.TokenName) || string.IsNullOrEmpty(s.TokenVersion))
        {
            throw new InvalidOperationException($"Network {id}: TokenName and TokenVersion (the token's EIP-712 domain) are required.");
        }
        var decimals = s.Decimals ?? 6;
        if (decimals is < 0 or > 36)
        {
            throw new InvalidOperationException($"Network {id}: Decimals must be between 0 and 36.");
        }
        if (s.LogRangeBlocks is < 1 || s.LogLookbackBlocks is < 1)
        {
            throw new InvalidOperationException($"Network {id}: LogRangeBlocks and LogLookbackBlocks must be at least 1.");
        }
        // Only a web address becomes a link: a javascript: or data: URL in configuration never reaches a page.
        if (s.ExplorerUrl is { Length: > 0 } explorer
            && !(Uri.TryCreate(explorer, UriKind.Absolute, out var explorerUri) && explorerUri.Scheme is "https" or "http"))
        {
            throw new InvalidOperationException($"Network {id}: ExplorerUrl must be an http(s) URL.");
        }
        var multicall3 = Multicall3Calls.Canonical;
        if (s.Multicall3 is { Length: > 0 } configured && !EvmAddress.TryParse(configured, out multicall3))
        {
            throw new InvalidOperationException($"Network {id}: Multicall3 must be a 0x address.");
        }
        var v1 = s.V1Name ?? V1Names.GetValueOrDefault(chainId);
        return new EvmNetwork(id, chainId, v1, asset, s.TokenName, s.TokenVersion, decimals, s.RpcUrl)
        {
            LogRangeBlocks = s.LogRangeBlocks ?? EvmNetwork.DefaultLogRangeBlocks,
            LogLookbackBlocks = s.LogLookbackBlocks ?? EvmNetwork.DefaultLogLookbackBlocks,
            ExplorerUrl = string.IsNullOrEmpty(s.ExplorerUrl) ? null : s.ExplorerUrl,
            Multicall3 = multicall3,
        };
    }
}
