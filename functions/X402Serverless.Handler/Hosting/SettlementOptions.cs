namespace X402Serverless.Handler.Hosting;

/// <summary>Settings under "X402:Settlement".</summary>
public sealed class SettlementOptions
{
    /// <summary>
    /// The operator's gas wallet (0x hex private key) for the built-in facilitator; from configuration or a Key Vault
    /// reference. Empty: only the remote facilitator is available. Never logged.
    /// </summary>
    public string? GasWalletKey { get; set; }

    /// <summary>"remote" or "builtin": what a link without its own choice settles through.</summary>
    public string DefaultFacilitator { get; set; } = "remote";

    /// <summary>Run the settlement worker in this process (standalone). In Azure the queue trigger drives jobs instead.</summary>
    public bool RunWorker { get; set; } = true;

    public int WorkerIntervalMilliseconds { get; set; } = 500;

    public int WorkerBatchSize { get; set; } = 16;

    public int RetryFirstMilliseconds { get; set; } = 1000;

    public int RetryCapMilliseconds { get; set; } = 30_000;

    public int ReceiptTimeoutSeconds { get; set; } = 60;

    /// <summary>
    /// How long a request may settle inline (sync payments, top-ups): the receipt wait plus time to reach the
    /// facilitator. Stale-payment recovery waits longer than this, so it never frees a payment a live request settles.
    /// </summary>
    public TimeSpan InlineSettleTimeout => TimeSpan.FromSeconds(ReceiptTimeoutSeconds + 30);

    /// <summary>
    /// A deferred link serves content first only when the authorization stays valid this long: a window too short to
    /// settle in would make content-first a free call.
    /// </summary>
    public int DeferredMinimumWindowSeconds { get; set; } = 60;

    /// <summary>
    /// How many unsettled deferred payments one wallet may have before it is served sync: the most content a wallet
    /// can take before any of it is paid for, parallel requests included. From 1 to 9,999 (checked at start), or
    /// <see cref="NoDeferredBound"/> (0) for no bound at all.
    /// </summary>
    public int DeferredMaxInFlightPerPayer { get; set; } = 10;

    /// <summary>The <see cref="DeferredMaxInFlightPerPayer"/> that means no bound (benchmarks; a wallet's exposure is unlimited).</summary>
    public const int NoDeferredBound = 0;

    /// <summary>
    /// EIP-6492 account factories (0x addresses) through which a payer's not-yet-deployed smart wallet may pay: the
    /// payment is simulated (deployment, then transfer) and, through the built-in facilitator, the gas wallet deploys the
    /// wallet (at most 1,000,000 gas) before settling. Empty (the default): such payments are refused
    /// (eip6492_factory_not_allowed), as the reference facilitator does, since each deployment is the operator's gas.
    /// </summary>
    public List<string> SmartWalletFactories { get; set; } = [];

    /// <summary>
    /// The least payment (USD) for which a not-yet-deployed wallet is deployed through a listed factory: the deployment's
    /// gas (up to 1,000,000) is the operator's whatever the price, so smaller EIP-6492 payments are refused
    /// (eip6492_amount_too_low) and the payer deploys its wallet first. A deployed wallet pays any price.
    /// </summary>
    public Core.Money.Usd SmartWalletDeployMinimum { get; set; } = Core.Money.Usd.FromCents(10);

    /// <summary><see cref="SmartWalletFactories"/> parsed (checked at start).</summary>
    public IReadOnlySet<Core.Evm.EvmAddress> SmartWalletFactorySet() =>
        SmartWalletFactories.Select(f => Core.Evm.EvmAddress.TryParse(f, out var a) ? a : (Core.Evm.EvmAddress?)null)
            .OfType<Core.Evm.EvmAddress>().ToHashSet();

    /// <summary>
    /// The most gas the built-in facilitator spends settling one payment, per transfer method: an EIP-3009 transfer signed
    /// by the payer's key, one signed by a contract wallet (EIP-1271, or EIP-6492 once deployed), and the Permit2 proxy's
    /// settle. A payer's code (an EIP-7702 delegation, a wallet) runs inside the settlement on the gas wallet's gas, so a
    /// larger estimate is refused (settlement_gas_above_limit) before anything is sent, and no transaction's gas limit
    /// exceeds it.
    /// </summary>
    public long MaxTransferGas { get; set; } = 150_000;

    /// <inheritdoc cref="MaxTransferGas"/>
    public long MaxContractWalletTransferGas { get; set; } = 500_000;

    /// <inheritdoc cref="MaxTransferGas"/>
    public long MaxPermit2SettleGas { get; set; } = 250_000;

    /// <summary>
    /// The most EIP-3009 transfers (by payers without code) the built-in facilitator settles in one transaction through
    /// the network's Multicall3, when the chain has it: transfers arriving while a settlement transaction is being sent
    /// go together in the next one, no wait added. 1 turns batching off. See docs/settlement-batching.md.
    /// </summary>
    public int MaxBatchTransfers { get; set; } = 16;

    /// <summary>The most gas one such batch may take (its limit is the sum of its transfers' own limits, each within <see cref="MaxTransferGas"/>).</summary>
    public long MaxBatchGas { get; set; } = 2_500_000;

    /// <summary>
    /// The longest, in milliseconds, a batch's send waits for settlements whose checks are already under way to join it;
    /// a settlement with none on its way is sent at once. 0: never wait. See docs/settlement-batching.md.
    /// </summary>
    public int BatchGatherMilliseconds { get; set; } = 5;

    /// <summary>Maximum fee per gas the built-in facilitator pays, in gwei.</summary>
    public long MaxFeePerGasGwei { get; set; } = 500;

    /// <summary>Serve the built-in facilitator as a standard x402 facilitator at /facilitator/{supported,verify,settle}.</summary>
    public bool ServeFacilitator { get; set; } = true;

    /// <summary>Require a management key on /facilitator/verify and /settle (our gas wallet pays for settlements).</summary>
    public bool FacilitatorRequiresKey { get; set; } = true;

    /// <summary>
    /// Organisations besides the operator's whose keys may use /facilitator/verify and /settle (the gas is the
    /// operator's: nobody else's key may spend it unless listed here).
    /// </summary>
    public List<string> FacilitatorOrganisations { get; set; } = [];

    /// <summary>Requests per minute one key may make to /facilitator/verify and /settle together (burst of the same size).</summary>
    public int FacilitatorRequestsPerMinute { get; set; } = 60;
}
