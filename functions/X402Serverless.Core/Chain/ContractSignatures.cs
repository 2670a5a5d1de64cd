using System.Collections.Concurrent;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Facilitation;
using X402Serverless.Core.Money;
using X402Serverless.Core.Networks;
using X402Serverless.Core.Protocol;

namespace X402Serverless.Core.Chain;

/// <summary>
/// Payments signed by contract wallets, which no ecrecover can check. A deployed wallet (EIP-1271: smart accounts,
/// multisigs) is asked, through the network's node, whether the signature over the transfer's EIP-712 digest is its
/// own, the same question the token asks when the transfer settles. Only addresses that hold code are asked, and
/// whether one does is remembered, so an EOA's bad signature costs one lookup per address, not one per request.
/// A wallet not deployed yet (EIP-6492) is accepted when its factory is on <paramref name="factories"/> and one
/// simulated call (<see cref="Erc6492Probe"/>) shows the factory deploying it and the transfer then going through.
/// </summary>
/// <param name="deployMinimum">The least payment a wallet is deployed for: each deployment's gas is the operator's, so a
/// stream of tiny payments from fresh counterfactual wallets must not cost more than it pays.</param>
public sealed class ContractSignatures(Func<EvmNetwork, EvmRpcClient?> rpcFor, TimeProvider time, IReadOnlySet<EvmAddress>? factories = null,
    Usd deployMinimum = default)
{
    /// <summary>How long "this address is (not) a contract" is believed. A wallet deployed meanwhile waits this long at most.</summary>
    public static readonly TimeSpan CodeCacheLifetime = TimeSpan.FromMinutes(5);

    /// <summary>The reason when the node cannot be asked (the built-in facilitator's own word for it).</summary>
    public const string Unavailable = "rpc_unavailable";

    /// <summary>The most gas an EIP-6492 factory call may take, simulated or sent: an account factory needs a few hundred thousand.</summary>
    public const long MaxDeployGas = 1_000_000;

    private const int MaxRemembered = 50_000;

    /// <summary>Enough for passkey (P-256) and multisig checks; a wallet needing more is refused.</summary>
    private const long MaxCheckGas = 1_000_000;

    private readonly IReadOnlySet<EvmAddress> _factories = factories ?? new HashSet<EvmAddress>();

    private readonly ConcurrentDictionary<(string Network, EvmAddress Address), (bool HasCode, DateTimeOffset Until)> _code = new();

    /// <summary>Whether wallets may be deployed through this factory (EIP-6492).</summary>
    public bool AllowsFactory(EvmAddress factory) => _factories.Contains(factory);

    /// <summary>The check as it stands, or, when only a contract wallet's word was missing, the check with that word.</summary>
    public async ValueTask<PaymentCheck> ResolveAsync(PaymentCheck check, CancellationToken cancellationToken)
    {
        if (check.ContractWallet is not { } pending || check.Payment is not { } payment)
        {
            return check;
        }
        try
        {
            var network = pending.Requirement.Network;
            var from = payment.Authorization.From;
            if (Erc6492.IsWrapped(payment.Signature))
            {
                return Erc6492.Unwrap(payment.Signature) is { } wrapped
                    ? await CounterfactualAsync(check, pending.Requirement, payment, wrapped, cancellationToken)
                    : check with { Message = "The signature ends with the EIP-6492 suffix but is not abi.encode(factory, calldata, signature)." };
            }
            return await AcceptsAsync(network, from, pending.Digest, payment.Signature, cancellationToken)
                ? new PaymentCheck(payment, pending.Requirement, null, null)
                : check;
        }
        catch (RpcUnavailableException)
        {
            return new PaymentCheck(payment, null, Unavailable,
                "The chain could not be asked whether the contract wallet at authorization.from signed this payment; retry shortly.");
        }
    }

    /// <summary>Whether the contract at <paramref name="wallet"/> accepts the signature. Throws <see cref="RpcUnavailableException"/>.</summary>
    public async Task<bool> AcceptsAsync(EvmNetwork network, EvmAddress wallet, byte[] digest, byte[] signature, CancellationToken cancellationToken)
    {
        if (rpcFor(network) is not { } rpc || !await HasCodeAsync(rpc, network, wallet, trustNoCode: true, cancellationToken))
        {
            return false;
        }
        return await AskWalletAsync(rpc, network, wallet, digest, signature, cancellationToken);
    }

    /// <summary>
    /// An EIP-6492 payment: a wallet that exists now is asked about the inner signature as any contract wallet is;
    /// one that does not is simulated into existence, with the transfer after it, in one eth_call.
    /// </summary>
    private async Task<PaymentCheck> CounterfactualAsync(PaymentCheck check, PaymentRequirement requirement, DecodedPayment payment, Erc6492Signature wrapped,
        CancellationToken cancellationToken)
    {
        var network = requirement.Network;
        var auth = payment.Authorization;
        if (rpcFor(network) is not { } rpc)
        {
            return check;
        }
        // Asked afresh: the wallet may have been deployed (by an earlier payment) since the cache last looked.
        if (await HasCodeAsync(rpc, network, auth.From, trustNoCode: false, cancellationToken))
        {
            return await AskWalletAsync(rpc, network, auth.From, check.ContractWallet!.Value.Digest, wrapped.Inner, cancellationToken)
                ? new PaymentCheck(payment, requirement, null, null)
                : check;
        }
        if (!AllowsFactory(wrapped.Factory))
        {
            return new PaymentCheck(payment, null, ReasonCodes.FactoryNotAllowed,
                $"The wallet at authorization.from is not deployed, and this gateway does not deploy wallets through factory {wrapped.Factory}.");
        }
        if (Usd.FromToken(new TokenAmount(auth.Value), network.Decimals) is not { } paid || paid < deployMinimum)
        {
            return new PaymentCheck(payment, null, ReasonCodes.DeploymentAmountTooLow,
                $"This gateway deploys a payer's wallet only for a payment of at least {deployMinimum} USD; deploy the wallet first, or pay at least that.");
        }
        var transfer = Eip3009Calls.TransferWithAuthorization(auth, wrapped.Inner);
        byte[] answer;
        try
        {
            answer = await rpc.EthCallCreateAsync(network.Asset, Erc6492Probe.Call(auth.From, wrapped, network.Asset, transfer, MaxDeployGas),
                MaxDeployGas + MaxCheckGas, cancellationToken);
        }
        catch (RpcException e)
        {
            // The probe itself failed (out of its gas, a node without deployless calls): no evidence the payment works.
            return new PaymentCheck(payment, null, ReasonCodes.WalletDeploymentFailed, $"The wallet's deployment could not be simulated: {e.Message}");
        }
        var (outcome, revert) = Erc6492Probe.Read(answer);
        return outcome switch
        {
            Erc6492Outcome.Paid => new PaymentCheck(payment, requirement, null, null),
            Erc6492Outcome.TransferReverted => new PaymentCheck(payment, null, RevertReasons.Map(revert, null),
                $"Once the wallet is deployed, the transfer would revert: {revert}"),
            Erc6492Outcome.FactoryReverted => new PaymentCheck(payment, null, ReasonCodes.WalletDeploymentFailed,
                "The EIP-6492 factory call reverts (or needs more than 1,000,000 gas)."),
            Erc6492Outcome.WalletNotDeployed => new PaymentCheck(payment, null, ReasonCodes.WalletDeploymentFailed,
                "The EIP-6492 factory call does not deploy a wallet at authorization.from."),
            _ => new PaymentCheck(payment, null, ReasonCodes.WalletDeploymentFailed, "The wallet's deployment could not be simulated."),
        };
    }

    private static async Task<bool> AskWalletAsync(EvmRpcClient rpc, EvmNetwork network, EvmAddress wallet, byte[] digest, byte[] signature,
        CancellationToken cancellationToken)
    {
        try
        {
            // Asked as the token asks when it settles (msg.sender = the token), so a wallet cannot say yes here and no
            // there; bounded, since the wallet's code is anyone's.
            return Erc1271.Accepted(await rpc.EthCallAsync(network.Asset, wallet, Erc1271.IsValidSignature(digest, signature), MaxCheckGas, cancellationToken));
        }
        catch (RpcException)
        {
            // A revert (no such function, a wallet that throws on a bad signature) is a no.
            return false;
        }
    }

    /// <param name="trustNoCode">Whether a remembered "no code" is believed; a remembered "has code" always is (code is not removed).</param>
    private async Task<bool> HasCodeAsync(EvmRpcClient rpc, EvmNetwork network, EvmAddress address, bool trustNoCode, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_code.TryGetValue((network.Id, address), out var known) && known.Until > now && (known.HasCode || trustNoCode))
        {
            return known.HasCode;
        }
        var hasCode = (await rpc.GetCodeAsync(address, cancellationToken)).Length > 0;
        if (_code.Count >= MaxRemembered)
        {
            // Rotating junk addresses cannot grow this without bound; starting over costs one lookup per address.
            _code.Clear();
        }
        _code[(network.Id, address)] = (hasCode, now + CodeCacheLifetime);
        return hasCode;
    }
}
