namespace X402Serverless.Core.Networks;

/// <summary>A chain added or overridden by configuration (X402:Networks:n:...).</summary>
public sealed class NetworkSettings
{
    /// <summary>CAIP-2 id, "eip155:&lt;chainId&gt;". Optional when <see cref="ChainId"/> is given.</summary>
    public string? Id { get; set; }

    public long? ChainId { get; set; }

    /// <summary>x402 v1 network name; defaults to the standard name for the chain id, if there is one.</summary>
    public string? V1Name { get; set; }

    public string? RpcUrl { get; set; }

    /// <summary>The token contract (EIP-3009 stablecoin).</summary>
    public string? Asset { get; set; }

    /// <summary>The token's EIP-712 name; must equal its on-chain name().</summary>
    public string? TokenName { get; set; }

    public string? TokenVersion { get; set; }

    public int? Decimals { get; set; }

    /// <summary>The block explorer's base URL (e.g. https://basescan.org): the console links transactions to {ExplorerUrl}/tx/{hash}.</summary>
    public string? ExplorerUrl { get; set; }

    /// <summary>The widest block range one eth_getLogs may ask of this network's RPC (providers refuse wider ones).</summary>
    public int? LogRangeBlocks { get; set; }

    /// <summary>How many blocks back a nonce's use is searched for before the lookup gives up and retries later.</summary>
    public long? LogLookbackBlocks { get; set; }

    /// <summary>Where Multicall3 is on this chain (default its canonical address), through which the built-in facilitator batches settlements.</summary>
    public string? Multicall3 { get; set; }
}
