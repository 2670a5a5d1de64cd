using System.Globalization;
using System.Numerics;

namespace X402Serverless.Handler.Transfers;

/// <summary>
/// How a transaction hash is accepted as payment (X402:Transfers): confirmations per chain, how old a transfer may be,
/// and how long a request holds a hash it is using before another may take it over (its process may have died).
/// </summary>
public sealed class TransferOptions
{
    public const int DefaultConfirmations = 3;

    /// <summary>Blocks on top of (and including) the transfer's before it pays, where a chain has no entry below.</summary>
    public int Confirmations { get; set; } = DefaultConfirmations;

    /// <summary>Per chain id ("8453" = 5): chains reorganise to different depths.</summary>
    public Dictionary<string, int> ConfirmationsByChain { get; set; } = [];

    /// <summary>A transfer mined longer ago than this no longer pays (a day by default).</summary>
    public int MaxAgeSeconds { get; set; } = 24 * 60 * 60;

    /// <summary>How long a claim on a hash lasts; 0 = the upstream timeout plus a minute.</summary>
    public int ClaimLeaseSeconds { get; set; }

    /// <summary>
    /// Per chain id, the native coin's price as wei per 1 USD ("84532" = "400000000000000": 1 USD = 0.0004 ETH). A chain
    /// listed here is offered for native-coin transfers on links that take transfers; the rate is the operator's, fixed
    /// until changed. Chains not listed take the token only.
    /// </summary>
    public Dictionary<string, string> NativeWeiPerUsd { get; set; } = [];

    /// <summary>The rate for the chain, or null when its native coin is not taken.</summary>
    public BigInteger? NativeRateFor(long chainId) =>
        NativeWeiPerUsd.TryGetValue(chainId.ToString(CultureInfo.InvariantCulture), out var text)
        && BigInteger.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var rate) && rate > 0
            ? rate
            : null;

    public int ConfirmationsFor(long chainId) =>
        ConfirmationsByChain.TryGetValue(chainId.ToString(CultureInfo.InvariantCulture), out var n) && n > 0 ? n : Math.Max(1, Confirmations);

    public TimeSpan Lease(int upstreamTimeoutSeconds) =>
        TimeSpan.FromSeconds(ClaimLeaseSeconds > 0 ? ClaimLeaseSeconds : upstreamTimeoutSeconds + 60);
}
