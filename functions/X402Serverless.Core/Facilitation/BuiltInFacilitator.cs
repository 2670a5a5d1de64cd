using System.Numerics;
using X402Serverless.Core.Chain;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Networks;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Protocol;

namespace X402Serverless.Core.Facilitation;

/// <summary>
/// Settles with the operator's own gas wallet: verify locally, check the chain, simulate, sign an EIP-1559
/// transferWithAuthorization, send it, wait for the receipt. Settling an authorization that is already used on
/// chain reports the transaction that used it, so retries are idempotent.
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

    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly Dictionary<long, BigInteger> _nextNonce = [];

    public GasWallet Wallet => wallet;

    public ValueTask<bool> IsAvailableAsync(CancellationToken cancellationToken) => ValueTask.FromResult(true);

    public async Task<VerifyOutcome> VerifyAsync(SettleRequest request, CancellationToken cancellationToken)
    {
        var (payment, requirement, reason, message) = Check(request);
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
            var onChain = await OnChainRefusalAsync(rpcFor(requirement.Network), payment, requirement, cancellationToken);
            return onChain is null ? new VerifyOutcome(true, true, null, null) : new VerifyOutcome(true, false, onChain, null);
        }
        catch (RpcUnavailableException e)
        {
            return new VerifyOutcome(false, false, RpcUnavailable, e.Message);
        }
    }

    public async Task<SettleOutcome> SettleAsync(SettleRequest request, CancellationToken cancellationToken)
    {
        var (payment, requirement, reason, message) = Check(request);
        if (payment is null || requirement is null)
        {
            return Refused(reason!, message, payment);
        }
        var network = requirement.Network;
        var rpc = rpcFor(network);
        var auth = payment.Authorization;
        try
        {
            // Idempotent: an authorization already paid on chain reports the transaction that paid it; one whose nonce
            // was used without its transfer is refused, never reported as settled.
            var lookup = new AuthorizationLookup(_ => rpc);
            var transfer = AuthorizedTransfer.Of(auth);
            var state = await lookup.FindAsync(network, transfer, cancellationToken);
            if (state.Use != AuthorizationUse.Unused)
            {
                return Concluded(state, network, payment);
            }
            var refusal = await OnChainRefusalAsync(rpc, payment, requirement, cancellationToken);
            if (refusal is not null)
            {
                return Refused(refusal, null, payment);
            }
            var data = Eip3009Calls.TransferWithAuthorization(auth, payment.Signature);
            try
            {
                await rpc.EthCallAsync(wallet.Address, network.Asset, data, cancellationToken);
            }
            catch (RpcException e)
            {
                return Refused(RevertReasons.Map(e.Message, e.RevertData), e.Message, payment);
            }

            var (hash, failure) = await SendAsync(rpc, network, data, cancellationToken);
            if (hash is null)
            {
                return new SettleOutcome(false, false, null, network.Id, auth.From.ToString(), failure, failure);
            }
            if (request.OnSubmitted is { } onSubmitted)
            {
                await onSubmitted(hash);
            }
            return await AwaitReceiptAsync(lookup, network, payment, hash, cancellationToken);
        }
        catch (RpcUnavailableException e)
        {
            return new SettleOutcome(false, false, null, network.Id, auth.From.ToString(), RpcUnavailable, e.Message);
        }
        catch (RpcException e)
        {
            // The node refused something of ours (not the payer's authorization): a passing condition to retry.
            var passing = IsUnderfunded(e) ? GasWalletUnderfunded : RpcUnavailable;
            return new SettleOutcome(false, false, null, network.Id, auth.From.ToString(), passing, e.Message);
        }
    }

    private static bool IsUnderfunded(RpcException e) =>
        e.Message.Contains("insufficient funds", StringComparison.OrdinalIgnoreCase)
        || e.Message.Contains("gas required exceeds allowance", StringComparison.OrdinalIgnoreCase);

    public void Dispose() => _sendLock.Dispose();

    private (DecodedPayment? Payment, PaymentRequirement? Requirement, string? Reason, string? Message) Check(SettleRequest request)
    {
        var (payment, requirement, reason, message) = FacilitatorRequestReader.Read(request, networks, options.MaxTimeoutSeconds);
        if (payment is null || requirement is null)
        {
            return (payment, null, reason, message);
        }
        var verification = verifier.Verify(payment, requirement);
        return verification.IsValid ? (payment, requirement, null, null) : (payment, null, verification.Reason, verification.Message);
    }

    private async Task<string?> OnChainRefusalAsync(EvmRpcClient rpc, DecodedPayment payment, PaymentRequirement requirement, CancellationToken cancellationToken)
    {
        var auth = payment.Authorization;
        var state = await rpc.EthCallAsync(wallet.Address, requirement.Network.Asset, Eip3009Calls.AuthorizationState(auth.From, auth.Nonce), cancellationToken);
        if (state.Length > 0 && state[^1] != 0)
        {
            return ReasonCodes.NonceAlreadyUsed;
        }
        var balance = new BigInteger(await rpc.EthCallAsync(wallet.Address, requirement.Network.Asset, Eip3009Calls.BalanceOf(auth.From), cancellationToken),
            isUnsigned: true, isBigEndian: true);
        return balance < auth.Value ? RevertReasons.InsufficientBalance : null;
    }

    // One transaction at a time per wallet: nonces are handed out locally and never collide; the lock covers
    // only signing and sending, not the wait for the receipt.
    private async Task<(string? Hash, string? Failure)> SendAsync(EvmRpcClient rpc, EvmNetwork network, byte[] data, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            var gas = await rpc.EstimateGasAsync(wallet.Address, network.Asset, data, cancellationToken) * 5 / 4;
            var tip = await rpc.MaxPriorityFeeAsync(cancellationToken);
            var maxFee = await rpc.BaseFeeAsync(cancellationToken) * 2 + tip;
            if (maxFee > options.MaxFeePerGas)
            {
                return (null, GasPriceAboveCap);
            }
            for (var attempt = 0; ; attempt++)
            {
                var chainNonce = await rpc.GetTransactionCountAsync(wallet.Address, cancellationToken);
                var nonce = _nextNonce.TryGetValue(network.ChainId, out var local) && local > chainNonce ? local : chainNonce;
                var (raw, hash) = wallet.Sign(new Eip1559Transaction(network.ChainId, nonce, tip, maxFee, gas, network.Asset, 0, data));
                try
                {
                    await rpc.SendRawTransactionAsync(raw, cancellationToken);
                    _nextNonce[network.ChainId] = nonce + 1;
                    return (hash, null);
                }
                catch (RpcException e) when (IsUnderfunded(e))
                {
                    return (null, GasWalletUnderfunded);
                }
                catch (RpcException e) when (attempt < 2 && e.Message.Contains("nonce", StringComparison.OrdinalIgnoreCase))
                {
                    _nextNonce.Remove(network.ChainId); // resynchronise from the chain and try once more
                }
            }
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task<SettleOutcome> AwaitReceiptAsync(AuthorizationLookup lookup, EvmNetwork network, DecodedPayment payment, string hash, CancellationToken cancellationToken)
    {
        var transfer = AuthorizedTransfer.Of(payment.Authorization);
        var deadline = time.GetUtcNow() + options.ReceiptTimeout;
        while (time.GetUtcNow() < deadline)
        {
            // Our own transaction's receipt, checked for the transfer all the same; if it reverted because the nonce
            // was used first (by the payer's own resubmission, or burned), the chain says which.
            if (await lookup.ConfirmAsync(network, hash, transfer, cancellationToken) is { } state)
            {
                return state.Use == AuthorizationUse.Unused
                    ? new SettleOutcome(true, false, hash, network.Id, payment.Authorization.From.ToString(), ReasonCodes.TransactionFailed, "The settlement transaction reverted.")
                    : Concluded(state, network, payment);
            }
            await Task.Delay(options.ReceiptPollInterval, time, cancellationToken);
        }
        return new SettleOutcome(false, false, hash, network.Id, payment.Authorization.From.ToString(), SettlementPending, "The settlement transaction is not mined yet.");
    }

    private static SettleOutcome Concluded(AuthorizationState state, EvmNetwork network, DecodedPayment payment) =>
        state.Use == AuthorizationUse.Transferred
            ? new SettleOutcome(true, true, state.Transaction, network.Id, payment.Authorization.From.ToString(), null, null)
            : new SettleOutcome(true, false, null, network.Id, payment.Authorization.From.ToString(), ReasonCodes.AuthorizationConsumedElsewhere,
                "The authorization's nonce was used on chain without its transfer; nothing was paid.");

    private static SettleOutcome Refused(string reason, string? message, DecodedPayment? payment) =>
        new(true, false, null, null, payment?.Authorization.From.ToString(), reason, message);
}
