using System.Numerics;
using X402Serverless.Core.Chain;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Networks;
using X402Serverless.Core.Protocol;

namespace X402Serverless.Core.Facilitation;

/// <summary>
/// What the built-in facilitator checks before it will pay gas: the request is well formed and its payment verifies
/// against our requirement, then the chain agrees (nonce unused, balance enough). Shared by verify and settle.
/// </summary>
internal sealed class BuiltInPaymentChecks(
    NetworkRegistry networks,
    GasWallet wallet,
    PaymentVerifier verifier,
    ContractSignatures contracts,
    BuiltInFacilitatorOptions options)
{
    /// <returns>ContractWallet: the signature is not the payer key's own (EIP-1271/6492), so only the wallet's code can check it.</returns>
    public async ValueTask<(DecodedPayment? Payment, PaymentRequirement? Requirement, string? Reason, string? Message, bool ContractWallet)> CheckAsync(
        SettleRequest request, CancellationToken cancellationToken)
    {
        var (payment, requirement, reason, message) = FacilitatorRequestReader.Read(request, networks, options.MaxTimeoutSeconds);
        if (payment is null || requirement is null)
        {
            return (payment, null, reason, message, false);
        }
        var verification = verifier.Verify(payment, requirement);
        if (verification.IsValid)
        {
            return (payment, requirement, null, null, false);
        }
        var check = new PaymentCheck(payment, null, verification.Reason, verification.Message)
        {
            ContractWallet = verification.ContractDigest is { } digest ? (requirement, digest) : null,
        };
        check = await contracts.ResolveAsync(check, cancellationToken);
        return (check.Payment, check.Requirement, check.Reason, check.Message, true);
    }

    /// <summary>The reason the chain would refuse this payment, or null when it would not. Throws <see cref="RpcUnavailableException"/>.</summary>
    public async Task<string?> OnChainRefusalAsync(EvmRpcClient rpc, DecodedPayment payment, PaymentRequirement requirement, CancellationToken cancellationToken)
    {
        var auth = payment.Authorization;
        if (payment.Permit2 is { } permit)
        {
            return await Permit2RefusalAsync(rpc, permit, requirement, cancellationToken);
        }
        var state = await rpc.EthCallAsync(wallet.Address, requirement.Network.Asset, Eip3009Calls.AuthorizationState(auth.From, auth.Nonce), cancellationToken);
        if (state.Length > 0 && state[^1] != 0)
        {
            return ReasonCodes.NonceAlreadyUsed;
        }
        var balance = new BigInteger(await rpc.EthCallAsync(wallet.Address, requirement.Network.Asset, Eip3009Calls.BalanceOf(auth.From), cancellationToken),
            isUnsigned: true, isBigEndian: true);
        return balance < auth.Value ? RevertReasons.InsufficientBalance : null;
    }

    /// <summary>
    /// A Permit2 payment: its payer holds no code (Permit2 would ask the code, not ecrecover: contract-wallet signatures
    /// are not accepted for Permit2), its nonce unspent at Permit2, and the payer's balance and allowance to Permit2 enough.
    /// </summary>
    private async Task<string?> Permit2RefusalAsync(EvmRpcClient rpc, Permit2Authorization permit, PaymentRequirement requirement, CancellationToken cancellationToken)
    {
        var code = rpc.GetCodeAsync(permit.From, cancellationToken);
        var bitmap = rpc.EthCallAsync(wallet.Address, Permit2Contracts.Permit2, Permit2Contracts.NonceBitmap(permit.From, permit.Nonce), cancellationToken);
        var balance = rpc.EthCallAsync(wallet.Address, requirement.Network.Asset, Eip3009Calls.BalanceOf(permit.From), cancellationToken);
        var allowance = rpc.EthCallAsync(wallet.Address, requirement.Network.Asset, Permit2Contracts.Allowance(permit.From), cancellationToken);
        await ((Task)Task.WhenAll(code, bitmap, balance, allowance)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if ((await code).Length > 0)
        {
            return ReasonCodes.Permit2InvalidSignature;
        }
        if (Permit2Contracts.NonceUsed(await bitmap, permit.Nonce))
        {
            return ReasonCodes.Permit2InvalidNonce;
        }
        if (new BigInteger(await balance, isUnsigned: true, isBigEndian: true) < permit.Amount)
        {
            return ReasonCodes.Permit2InsufficientBalance;
        }
        return new BigInteger(await allowance, isUnsigned: true, isBigEndian: true) < permit.Amount ? ReasonCodes.Permit2AllowanceRequired : null;
    }
}
