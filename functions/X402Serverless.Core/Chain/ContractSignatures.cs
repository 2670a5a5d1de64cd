using System.Collections.Concurrent;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Networks;
using X402Serverless.Core.Protocol;

namespace X402Serverless.Core.Chain;

/// <summary>
/// Payments signed by contract wallets (EIP-1271: deployed smart accounts, multisigs), which no ecrecover can check:
/// the wallet at authorization.from is asked, through the network's node, whether the signature over the transfer's
/// EIP-712 digest is its own, the same question the token asks when the transfer settles. Only addresses that hold
/// code are asked, and whether one does is remembered, so an EOA's bad signature costs one lookup per address, not
/// one per request.
/// </summary>
public sealed class ContractSignatures(Func<EvmNetwork, EvmRpcClient?> rpcFor, TimeProvider time)
{
    /// <summary>How long "this address is (not) a contract" is believed. A wallet deployed meanwhile waits this long at most.</summary>
    public static readonly TimeSpan CodeCacheLifetime = TimeSpan.FromMinutes(5);

    /// <summary>The reason when the node cannot be asked (the built-in facilitator's own word for it).</summary>
    public const string Unavailable = "rpc_unavailable";

    private const int MaxRemembered = 50_000;

    /// <summary>Enough for passkey (P-256) and multisig checks; a wallet needing more is refused.</summary>
    private const long MaxCheckGas = 1_000_000;

    private readonly ConcurrentDictionary<(string Network, EvmAddress Address), (bool HasCode, DateTimeOffset Until)> _code = new();

    /// <summary>The check as it stands, or, when only a contract wallet's word was missing, the check with that word.</summary>
    public async ValueTask<PaymentCheck> ResolveAsync(PaymentCheck check, CancellationToken cancellationToken)
    {
        if (check.ContractWallet is not { } pending || check.Payment is not { } payment)
        {
            return check;
        }
        try
        {
            return await AcceptsAsync(pending.Requirement.Network, payment.Authorization.From, pending.Digest, payment.Signature, cancellationToken)
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
        if (rpcFor(network) is not { } rpc || !await HasCodeAsync(rpc, network, wallet, cancellationToken))
        {
            return false;
        }
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

    private async Task<bool> HasCodeAsync(EvmRpcClient rpc, EvmNetwork network, EvmAddress address, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_code.TryGetValue((network.Id, address), out var known) && known.Until > now)
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
