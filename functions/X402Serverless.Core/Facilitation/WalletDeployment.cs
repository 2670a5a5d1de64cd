using System.Collections.Concurrent;
using System.Numerics;
using X402Serverless.Core.Chain;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Networks;
using X402Serverless.Core.Protocol;

namespace X402Serverless.Core.Facilitation;

/// <summary>
/// Before an EIP-6492 payment settles, its wallet must exist (the token asks the wallet about the signature): the gas
/// wallet sends the signature's factory call, once, only when the wallet has no code, only through an allowed factory,
/// and only within <see cref="ContractSignatures.MaxDeployGas"/>. The payment's checks (which simulated this very
/// deployment followed by the transfer) have passed before it is asked, so junk never reaches the gas wallet.
/// </summary>
internal sealed class WalletDeployment(GasWallet wallet, GasWalletSender sender, ContractSignatures contracts, BuiltInFacilitatorOptions options, TimeProvider time)
{
    // Payments from one wallet settling at once share its deployment rather than each sending the factory call.
    private readonly ConcurrentDictionary<(long Chain, EvmAddress Wallet), Lazy<Task<SettleOutcome?>>> _deploying = new();

    /// <summary>Null once the wallet exists (already, or deployed now); otherwise the settlement's outcome.</summary>
    public async Task<SettleOutcome?> EnsureAsync(EvmRpcClient rpc, EvmNetwork network, DecodedPayment payment, Erc6492Signature wrapped,
        CancellationToken cancellationToken)
    {
        if (await DeployedAsync(rpc, payment.Authorization.From, cancellationToken))
        {
            return null;
        }
        var key = (network.ChainId, payment.Authorization.From);
        // Not cancelled with one caller: the others may be waiting on it (the receipt wait bounds it).
        var deployment = _deploying.GetOrAdd(key, _ => new(() => DeployAsync(rpc, network, payment, wrapped, CancellationToken.None)));
        try
        {
            return await deployment.Value.WaitAsync(cancellationToken);
        }
        finally
        {
            _deploying.TryRemove(KeyValuePair.Create(key, deployment));
        }
    }

    private async Task<SettleOutcome?> DeployAsync(EvmRpcClient rpc, EvmNetwork network, DecodedPayment payment, Erc6492Signature wrapped,
        CancellationToken cancellationToken)
    {
        var from = payment.Authorization.From;
        if (await DeployedAsync(rpc, from, cancellationToken))
        {
            return null; // by a deployment that ended between the caller's look and this one
        }
        if (!contracts.AllowsFactory(wrapped.Factory))
        {
            return BuiltInOutcomes.Refused(ReasonCodes.FactoryNotAllowed, $"Wallets are not deployed through factory {wrapped.Factory}.", payment);
        }
        BigInteger gas;
        try
        {
            gas = await rpc.EstimateGasAsync(wallet.Address, wrapped.Factory, wrapped.FactoryCalldata, cancellationToken);
        }
        catch (RpcException e) when (!GasWalletSender.IsUnderfunded(e))
        {
            return BuiltInOutcomes.Refused(ReasonCodes.WalletDeploymentFailed, $"The factory call reverts: {e.Message}", payment);
        }
        if (gas > ContractSignatures.MaxDeployGas)
        {
            return BuiltInOutcomes.Refused(ReasonCodes.WalletDeploymentFailed,
                $"The factory call needs {gas} gas, over the {ContractSignatures.MaxDeployGas} a wallet's deployment may take.", payment);
        }
        var (hash, failure) = await sender.SendAsync(rpc, network, wrapped.Factory, wrapped.FactoryCalldata, gas, ContractSignatures.MaxDeployGas, cancellationToken);
        if (hash is null)
        {
            return new SettleOutcome(false, false, null, network.Id, from.ToString(), failure, failure);
        }
        var start = time.GetUtcNow();
        var wait = options.ReceiptFirstPoll;
        while (time.GetUtcNow() - start < options.ReceiptTimeout)
        {
            foreach (var sent in sender.Lineage(network.ChainId, hash))
            {
                if (await rpc.GetReceiptAsync(sent, cancellationToken) is not null)
                {
                    sender.Confirmed(network.ChainId, sent);
                    // Whether ours reverted matters less than whether the wallet is there: a concurrent payment from the
                    // same wallet may have deployed it first.
                    return await DeployedAsync(rpc, from, cancellationToken)
                        ? null
                        : BuiltInOutcomes.Refused(ReasonCodes.WalletDeploymentFailed, "The factory call did not deploy the wallet on chain.", payment);
                }
            }
            if (time.GetUtcNow() - start >= options.GapCheckInterval)
            {
                await sender.CloseGapsAsync(rpc, network, cancellationToken);
            }
            await Task.Delay(wait, time, cancellationToken);
            wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, options.ReceiptPollInterval.Ticks));
        }
        // Retried later: the same factory call goes out again as the same bytes (or is found deployed), never twice.
        return new SettleOutcome(false, false, null, network.Id, from.ToString(), BuiltInFacilitator.SettlementPending,
            "The wallet's deployment is not mined yet.");
    }

    private static async Task<bool> DeployedAsync(EvmRpcClient rpc, EvmAddress address, CancellationToken cancellationToken) =>
        (await rpc.GetCodeAsync(address, cancellationToken)).Length > 0;
}
