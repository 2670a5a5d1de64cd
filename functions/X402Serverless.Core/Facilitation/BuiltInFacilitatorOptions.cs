using System.Numerics;
using X402Serverless.Core.Evm;

namespace X402Serverless.Core.Facilitation;

public sealed class BuiltInFacilitatorOptions
{
    /// <summary>How long to wait for a settlement receipt before reporting it pending.</summary>
    public TimeSpan ReceiptTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The receipt is asked for at once after the send, then after this wait, doubling up to <see cref="ReceiptPollInterval"/>:
    /// a chain that mines at once answers within milliseconds, a slow one is not asked much more often than before.
    /// (anvil's automine has the receipt a millisecond or two after the send returns, so 2 ms rather than 5 ms.)
    /// </summary>
    public TimeSpan ReceiptFirstPoll { get; init; } = TimeSpan.FromMilliseconds(2);

    /// <summary>The longest wait between two receipt checks.</summary>
    public TimeSpan ReceiptPollInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// A receipt wait longer than this compares the chain's nonce counts with the gas wallet's and sends again what the
    /// node dropped (see <see cref="GasWalletSender.CloseGapsAsync"/>); one such check per chain per interval.
    /// </summary>
    public TimeSpan GapCheckInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a quote of the chain's fees is reused (see <see cref="GasFees"/>).</summary>
    public TimeSpan FeeCacheTtl { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Fee cap: settlement waits rather than pay more per gas than this (wei).</summary>
    public BigInteger MaxFeePerGas { get; init; } = new(500_000_000_000); // 500 gwei

    /// <summary>Read the payer's balance and the authorization state on chain during /verify.</summary>
    public bool VerifyOnChain { get; init; } = true;

    /// <summary>
    /// The longest authorization window this facilitator settles, whatever a caller's requirements claim: a caller
    /// of /facilitator/settle writes its own maxTimeoutSeconds, so it is capped by the deployment's own limit.
    /// </summary>
    public int MaxTimeoutSeconds { get; init; } = 300;

    /// <summary>
    /// Factories through which this facilitator deploys a payer's not-yet-deployed wallet (EIP-6492) before settling,
    /// paying the deployment's gas. Empty (the default): such payments are refused with eip6492_factory_not_allowed.
    /// </summary>
    public IReadOnlySet<EvmAddress> SmartWalletFactories { get; init; } = new HashSet<EvmAddress>();

    /// <summary>The least payment a not-yet-deployed wallet is deployed for (eip6492_amount_too_low below it).</summary>
    public Money.Usd SmartWalletDeployMinimum { get; init; }
}
