using System.Numerics;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Protocol;

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

    /// <summary>
    /// The most gas one transferWithAuthorization signed by an EOA key may take (a token's transfer needs about 90,000).
    /// A payer's address may still hold code (an EIP-7702 delegation) that the token asks instead of ecrecover: without
    /// a ceiling its code could burn the gas wallet's gas. Above it: <see cref="ReasonCodes.SettlementGasAboveLimit"/>.
    /// </summary>
    public long MaxTransferGas { get; init; } = 150_000;

    /// <summary>The same for a transfer whose signature only the payer's contract wallet can check (EIP-1271, EIP-6492 once deployed): passkey checks cost more.</summary>
    public long MaxContractWalletTransferGas { get; init; } = 500_000;

    /// <summary>
    /// The most EIP-3009 transfers by payers without code settled in one transaction through the network's Multicall3
    /// (<see cref="SettlementBatches"/>): those that arrive while a settlement transaction is being sent go together in
    /// the next one. 1: every transfer in its own transaction.
    /// </summary>
    public int MaxBatchTransfers { get; init; } = 16;

    /// <summary>
    /// The most gas one batch may take: its limit is the sum of its transfers' own limits (each within
    /// <see cref="MaxTransferGas"/>), and a batch closes before a transfer would take it over this.
    /// </summary>
    public long MaxBatchGas { get; init; } = 2_500_000;

    /// <summary>
    /// The longest a batch's send waits for settlements already on their way to it (their checks under way) to join;
    /// nothing waits when none is. Zero: never wait.
    /// </summary>
    public TimeSpan BatchGatherWindow { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>The same for the x402 exact Permit2 proxy's settle (Permit2's signature and nonce checks, then the token's transferFrom).</summary>
    public long MaxPermit2SettleGas { get; init; } = 250_000;
}
