using X402Serverless.Core.Evm;

namespace X402Serverless.Core.Networks;

/// <summary>
/// A chain and the stablecoin a link is paid in on it. <see cref="Id"/> is CAIP-2 ("eip155:8453");
/// <see cref="V1Name"/> is the x402 v1 name ("base"), when v1 has one for this chain.
/// </summary>
public sealed class EvmNetwork
{
    public EvmNetwork(string id, long chainId, string? v1Name, EvmAddress asset, string tokenName, string tokenVersion, int decimals, string? rpcUrl)
    {
        Id = id;
        ChainId = chainId;
        V1Name = v1Name;
        Asset = asset;
        Decimals = decimals;
        RpcUrl = rpcUrl;
        Domain = new Eip712Domain(tokenName, tokenVersion, chainId, asset);
    }

    public string Id { get; }

    public long ChainId { get; }

    public string? V1Name { get; }

    public EvmAddress Asset { get; }

    public int Decimals { get; }

    public string? RpcUrl { get; }

    public Eip712Domain Domain { get; }

    private volatile string? _refusal;

    /// <summary>Why this network takes no new payments (its token disagrees with the configuration), or null.</summary>
    public string? Refusal => _refusal;

    /// <summary>Stops new payments on this network; settlements already under way go on.</summary>
    public void Refuse(string reason) => _refusal = reason;

    // Within what common providers accept per eth_getLogs; a week of Base blocks to look back.
    public const int DefaultLogRangeBlocks = 2_000;
    public const long DefaultLogLookbackBlocks = 300_000;

    /// <summary>The widest block range one eth_getLogs asks for (public and commercial RPCs cap it).</summary>
    public int LogRangeBlocks { get; init; } = DefaultLogRangeBlocks;

    /// <summary>How far back, in blocks, the use of a nonce is searched for.</summary>
    public long LogLookbackBlocks { get; init; } = DefaultLogLookbackBlocks;

    /// <summary>
    /// Multicall3 on this chain: the built-in facilitator settles several EIP-3009 transfers in one transaction through
    /// it, once the chain shows code there. Its canonical address unless configured.
    /// </summary>
    public EvmAddress Multicall3 { get; init; } = Multicall3Calls.Canonical;

    /// <summary>The block explorer's base URL, for links to transactions (null: shown as plain text).</summary>
    public string? ExplorerUrl { get; init; }
}
