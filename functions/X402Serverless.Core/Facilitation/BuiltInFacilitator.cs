using System.Numerics;
using X402Serverless.Core.Chain;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Networks;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Protocol;

namespace X402Serverless.Core.Facilitation;

/// <summary>
/// Settles with the operator's own gas wallet: verify locally, check the chain and estimate the gas (which simulates
/// the transfer) side by side, or, once a transfer of the same shape was estimated, just run it once within that
/// estimate's limit (<see cref="GasEstimates"/>); sign an EIP-1559 transferWithAuthorization, send it, wait for the
/// receipt. Settling an authorization that is already used on
/// chain reports the transaction that used it, so retries are idempotent. EIP-3009 transfers by payers without code
/// that arrive while another settlement is being sent share a Multicall3 transaction (<see cref="SettlementBatches"/>).
/// </summary>
public sealed class BuiltInFacilitator(
    NetworkRegistry networks,
    GasWallet wallet,
    Func<EvmNetwork, EvmRpcClient> rpcFor,
    PaymentVerifier verifier,
    BuiltInFacilitatorOptions options,
    TimeProvider time) : IFacilitator, IDisposable
{
    public const string GasWalletUnderfunded = "gas_wallet_underfunded";
    public const string RpcUnavailable = "rpc_unavailable";
    public const string SettlementPending = "settlement_pending";
    public const string GasPriceAboveCap = "gas_price_above_cap";

    private readonly ContractSignatures _contracts = new(rpcFor, time, options.SmartWalletFactories, options.SmartWalletDeployMinimum);
    private readonly GasWalletSender _sender = new(wallet, options, time);
    private readonly ReceiptWatch _receipts = new(time, options);
    private readonly GasEstimates _estimates = new();

    // Built on first use (an initializer cannot read the fields above); one instance for every caller, since the
    // deployment's in-flight map must be shared.
    private BuiltInPaymentChecks Checks => LazyInitializer.EnsureInitialized(ref field, () => new(networks, wallet, verifier, _contracts, options));

    private SettlementBatches Batches => LazyInitializer.EnsureInitialized(ref field, () => new(_sender, options, time));

    private WalletDeployment Deployment => LazyInitializer.EnsureInitialized(ref field, () => new(wallet, _sender, _contracts, options, time));

    public GasWallet Wallet => wallet;

    /// <summary>Transfers waiting on this chain for the next batch (for tests).</summary>
    internal int QueuedForBatch(long chainId) => Batches.Queued(chainId);

    public ValueTask<bool> IsAvailableAsync(CancellationToken cancellationToken) => ValueTask.FromResult(true);

    public async Task<VerifyOutcome> VerifyAsync(SettleRequest request, CancellationToken cancellationToken)
    {
        var (payment, requirement, reason, message, _) = await Checks.CheckAsync(request, cancellationToken);
        if (payment is null || requirement is null)
        {
            return new VerifyOutcome(true, false, reason, message);
        }
        if (!options.VerifyOnChain)
        {
            return new VerifyOutcome(true, true, null, null);
        }
        try
        {
            var onChain = await Checks.OnChainRefusalAsync(rpcFor(requirement.Network), payment, requirement, cancellationToken);
            return onChain is null ? new VerifyOutcome(true, true, null, null) : new VerifyOutcome(true, false, onChain, null);
        }
        catch (RpcUnavailableException e)
        {
            return new VerifyOutcome(false, false, RpcUnavailable, e.Message);
        }
    }

    public Task<SettleOutcome> SettleAsync(SettleRequest request, CancellationToken cancellationToken) =>
        SettleAsync(request, batchable: true, cancellationToken);

    /// <param name="batchable">False when settling alone a transfer that did not go through in a batch.</param>
    private async Task<SettleOutcome> SettleAsync(SettleRequest request, bool batchable, CancellationToken cancellationToken)
    {
        var (payment, requirement, reason, message, contractWallet) = await Checks.CheckAsync(request, cancellationToken);
        if (payment is null || requirement is null)
        {
            return BuiltInOutcomes.Refused(reason!, message, payment);
        }
        var network = requirement.Network;
        var rpc = rpcFor(network);
        var auth = payment.Authorization;
        try
        {
            if (payment.Permit2 is { } permit)
            {
                return await SettlePermit2Async(request, rpc, network, payment, permit, cancellationToken);
            }
            // Idempotent: an authorization already paid on chain reports the transaction that paid it; one whose nonce
            // was used without its transfer is refused, never reported as settled.
            var signature = payment.Signature;
            if (Erc6492.Unwrap(signature) is { } wrapped)
            {
                // A wallet not deployed yet is deployed first; the token then asks it about the inner signature.
                if (await Deployment.EnsureAsync(rpc, network, payment, wrapped, cancellationToken) is { } notDeployed)
                {
                    return notDeployed;
                }
                signature = wrapped.Inner;
                batchable = false;
            }
            // Only a transfer signed by an EOA key, sent within MaxTransferGas, rides in a batch (SettlementBatches).
            batchable &= !contractWallet;
            var lookup = new AuthorizationLookup(_ => rpc, AuthorizationLookup.Permit2WindowFor(options.MaxTimeoutSeconds));
            var transfer = AuthorizedTransfer.Of(auth);
            var data = Eip3009Calls.TransferWithAuthorization(auth, signature);
            // A payer holding code (an EIP-7702 delegation) has the token run that code in its transfer: in a batch it could
            // spend the gas of every call after its own (Multicall3 gives each call all the gas left), so such a payer is
            // always sent alone, within its own limit. Read beside the first check, so it adds no round trip's wait.
            var codeRead = batchable ? rpc.GetCodeAsync(auth.From, cancellationToken) : Task.FromResult<byte[]>([]);
            // Counted on its way to the batch lane while its checks run, so a send under way can wait for it to join.
            using var arrival = batchable && options.MaxBatchTransfers > 1 ? Batches.Expect(network.ChainId) : null;
            if (!contractWallet && await FitsLastEstimateAsync(rpc, network, data, signature.Length, cancellationToken) is { } known)
            {
                batchable &= await PayerHasNoCodeAsync(codeRead);
                // The transfer runs as the gas wallet would send it, within the limit it will be sent with (never above
                // an EOA's ceiling): the nonce is unused and the balance enough, so none of the reads below is needed. A
                // contract wallet always takes the full path, its estimate checked against its own ceiling.
                return await SendAndAwaitAsync(request, rpc, network, lookup, payment, data, known, options.MaxTransferGas, batchable, arrival, cancellationToken);
            }
            // The three reads before paying gas go out together, one round trip's wait instead of three.
            var stateRead = lookup.FindAsync(network, transfer, cancellationToken);
            var balanceRead = rpc.EthCallAsync(wallet.Address, network.Asset, Eip3009Calls.BalanceOf(auth.From), cancellationToken);
            // The gas estimate runs the transfer as the gas wallet would send it: it is also the revert pre-check.
            var estimate = rpc.EstimateGasAsync(wallet.Address, network.Asset, data, cancellationToken);
            await Task.WhenAll(stateRead, balanceRead, estimate, codeRead).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            var state = await stateRead;
            if (state.Use != AuthorizationUse.Unused)
            {
                return BuiltInOutcomes.Concluded(state, network, payment);
            }
            if (new BigInteger(await balanceRead, isUnsigned: true, isBigEndian: true) < auth.Value)
            {
                return BuiltInOutcomes.Refused(RevertReasons.InsufficientBalance, null, payment);
            }
            BigInteger gas;
            try
            {
                gas = await estimate;
            }
            catch (RpcException e) when (!GasWalletSender.IsUnderfunded(e))
            {
                return BuiltInOutcomes.Refused(RevertReasons.Map(e.Message, e.RevertData), e.Message, payment);
            }
            // An EOA-signed transfer needs little; more means code at the payer (an EIP-7702 delegation) doing work the
            // gas wallet would pay for. A contract wallet's own check may cost more, within its own ceiling.
            var ceiling = contractWallet ? options.MaxContractWalletTransferGas : options.MaxTransferGas;
            if (BuiltInOutcomes.OverGasCeiling(gas, ceiling, payment) is { } tooCostly)
            {
                return tooCostly;
            }
            if (!contractWallet)
            {
                // Only an EOA's transfer, within its ceiling, is the shape later transfers are tried against.
                _estimates.Remember(network.ChainId, network.Asset, signature.Length, gas);
            }
            batchable &= await PayerHasNoCodeAsync(codeRead);
            return await SendAndAwaitAsync(request, rpc, network, lookup, payment, data, gas, ceiling, batchable, arrival, cancellationToken);
        }
        catch (RpcUnavailableException e)
        {
            return new SettleOutcome(false, false, null, network.Id, auth.From.ToString(), RpcUnavailable, e.Message);
        }
        catch (RpcException e)
        {
            // The node refused something of ours (not the payer's authorization): a passing condition to retry.
            var passing = GasWalletSender.IsUnderfunded(e) ? GasWalletUnderfunded : RpcUnavailable;
            return new SettleOutcome(false, false, null, network.Id, auth.From.ToString(), passing, e.Message);
        }
    }

    /// <summary>
    /// The last estimate for transfers of this shape (<see cref="GasEstimates"/>), when one eth_call of this transfer
    /// completes within the limit it gives; null when there is none yet or the call fails for any reason (reverted,
    /// out of gas): then the full reads and estimate decide, as for a first settlement.
    /// </summary>
    private async Task<BigInteger?> FitsLastEstimateAsync(EvmRpcClient rpc, EvmNetwork network, byte[] data, int signatureLength, CancellationToken cancellationToken)
    {
        if (_estimates.Last(network.ChainId, network.Asset, signatureLength) is not { } estimate)
        {
            return null;
        }
        try
        {
            await rpc.EthCallAsync(wallet.Address, network.Asset, data, BigInteger.Min(GasEstimates.LimitOf(estimate), options.MaxTransferGas), cancellationToken);
            return estimate;
        }
        catch (RpcException)
        {
            return null;
        }
    }

    /// <summary>True when the payer's address holds no code; a read that failed counts as code (the transfer then goes alone).</summary>
    private static async Task<bool> PayerHasNoCodeAsync(Task<byte[]> codeRead)
    {
        try
        {
            return (await codeRead).Length == 0;
        }
        catch (Exception e) when (e is RpcException or RpcUnavailableException)
        {
            return false;
        }
    }

    private async Task<SettleOutcome> SendAndAwaitAsync(SettleRequest request, EvmRpcClient rpc, EvmNetwork network, AuthorizationLookup lookup,
        DecodedPayment payment, byte[] data, BigInteger gasEstimate, long maxGas, bool batchable, SettlementBatches.Arrival? arrival, CancellationToken cancellationToken)
    {
        string? hash, failure;
        var transfers = 1;
        if (batchable)
        {
            (hash, failure, transfers) = await Batches.SendAsync(rpc, network, data, gasEstimate, maxGas, cancellationToken, arrival);
            if (failure == SettlementBatches.BatchRefused)
            {
                // The node refused the whole batch (a size or fee cap of its own, say): each of its transfers goes alone.
                return await SettleAsync(request, batchable: false, cancellationToken);
            }
        }
        else
        {
            arrival?.Dispose(); // not joining a batch (its payer holds code): no send waits for it
            (hash, failure) = await _sender.SendAsync(rpc, network, data, gasEstimate, maxGas, cancellationToken);
        }
        if (hash is null)
        {
            return new SettleOutcome(false, false, null, network.Id, payment.Authorization.From.ToString(), failure, failure);
        }
        if (request.OnSubmitted is { } onSubmitted)
        {
            await onSubmitted(hash);
        }
        var outcome = await _receipts.AwaitAsync(_sender, lookup, rpc, network, payment, hash, cancellationToken, shared: transfers != 1);
        if (batchable && outcome.ErrorReason == ReasonCodes.TransactionFailed)
        {
            // Sent through the batch lane (which may have found a batch of this transfer already in flight) and mined
            // without this transfer, its authorization still unused: another call in a batch may have burned the gas (a
            // payer's code appearing after the check), or the whole batch ran out. Nothing says it is this payer's doing,
            // so it is settled again alone, checked afresh as a first settlement is; never reported settled without its
            // own transfer. If the caller's time runs out meanwhile, the payment is pending (the batch's hash is recorded):
            // the settlement worker settles it again later.
            try
            {
                return await SettleAsync(request, batchable: false, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return new SettleOutcome(false, false, hash, network.Id, payment.Authorization.From.ToString(), SettlementPending,
                    "Its batch was mined without it; it is being settled again alone.");
            }
        }
        return outcome;
    }

    /// <summary>
    /// A Permit2 payment: the gas wallet calls the x402 exact Permit2 proxy's settle, which has Permit2 move the amount
    /// to witness.to. As for EIP-3009, a permit already spent reports the transaction that spent it (idempotent), and
    /// the chain's reads (nonce, balance, allowance to Permit2) and the gas estimate (the revert pre-check) go out together.
    /// </summary>
    private async Task<SettleOutcome> SettlePermit2Async(SettleRequest request, EvmRpcClient rpc, EvmNetwork network, DecodedPayment payment,
        Permit2Authorization permit, CancellationToken cancellationToken)
    {
        var lookup = new AuthorizationLookup(_ => rpc, AuthorizationLookup.Permit2WindowFor(options.MaxTimeoutSeconds));
        var data = Permit2Contracts.Settle(permit, payment.Signature);
        var stateRead = lookup.FindAsync(network, AuthorizedTransfer.Of(payment), cancellationToken);
        var balanceRead = rpc.EthCallAsync(wallet.Address, network.Asset, Eip3009Calls.BalanceOf(permit.From), cancellationToken);
        var allowanceRead = rpc.EthCallAsync(wallet.Address, network.Asset, Permit2Contracts.Allowance(permit.From), cancellationToken);
        // Permit2 asks a payer that holds code (a contract wallet, an EIP-7702 delegation) instead of ecrecover, and that
        // code would run on the gas wallet's gas: such signatures are not accepted for Permit2, as the local check says.
        var codeRead = rpc.GetCodeAsync(permit.From, cancellationToken);
        var estimate = rpc.EstimateGasAsync(wallet.Address, Permit2Contracts.ExactProxy, data, cancellationToken);
        await Task.WhenAll(stateRead, balanceRead, allowanceRead, codeRead, estimate).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        var state = await stateRead;
        if (state.Use != AuthorizationUse.Unused)
        {
            return BuiltInOutcomes.Concluded(state, network, payment);
        }
        if ((await codeRead).Length > 0)
        {
            return BuiltInOutcomes.Refused(ReasonCodes.Permit2InvalidSignature,
                "The payer's address holds code (a contract wallet or an EIP-7702 delegation); contract-wallet signatures are not accepted for Permit2.", payment);
        }
        if (new BigInteger(await balanceRead, isUnsigned: true, isBigEndian: true) < permit.Amount)
        {
            return BuiltInOutcomes.Refused(ReasonCodes.Permit2InsufficientBalance, null, payment);
        }
        if (new BigInteger(await allowanceRead, isUnsigned: true, isBigEndian: true) < permit.Amount)
        {
            return BuiltInOutcomes.Refused(ReasonCodes.Permit2AllowanceRequired,
                "The payer has not approved Permit2 for this token (approve 0x000000000022D473030F116dDEE9F6B43aC78BA3 once).", payment);
        }
        BigInteger gas;
        try
        {
            gas = await estimate;
        }
        catch (RpcException e) when (!GasWalletSender.IsUnderfunded(e))
        {
            return BuiltInOutcomes.Refused(RevertReasons.MapPermit2(e.Message, e.RevertData), e.Message, payment);
        }
        if (BuiltInOutcomes.OverGasCeiling(gas, options.MaxPermit2SettleGas, payment) is { } tooCostly)
        {
            return tooCostly;
        }
        var (hash, failure) = await _sender.SendAsync(rpc, network, Permit2Contracts.ExactProxy, data, gas, options.MaxPermit2SettleGas, cancellationToken);
        if (hash is null)
        {
            return new SettleOutcome(false, false, null, network.Id, permit.From.ToString(), failure, failure);
        }
        if (request.OnSubmitted is { } onSubmitted)
        {
            await onSubmitted(hash);
        }
        return await _receipts.AwaitAsync(_sender, lookup, rpc, network, payment, hash, cancellationToken);
    }

    public void Dispose() => _sender.Dispose();
}
