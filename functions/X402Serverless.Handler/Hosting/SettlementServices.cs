using System.Collections.Concurrent;
using System.Numerics;
using Azure.Identity;
using X402Serverless.AzureStorage.Messaging;
using X402Serverless.Core.Chain;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Facilitation;
using X402Serverless.Core.Networks;
using X402Serverless.Core.Protocol;
using X402Serverless.Core.Settlement;
using X402Serverless.Handler.Settlement;

namespace X402Serverless.Handler.Hosting;

/// <summary>Registers the settlement engine: RPC clients, the built-in facilitator (when a gas wallet is configured), the job processor and worker.</summary>
internal static class SettlementServices
{
    public static IServiceCollection AddSettlement(this IServiceCollection services, GatewayOptions options)
    {
        var settings = options.Settlement;
        services.AddSingleton(_ =>
        {
            // One pooled client for every node; one EvmRpcClient per network, built on first use.
            var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = TimeSpan.FromSeconds(30) };
            var clients = new ConcurrentDictionary<string, EvmRpcClient>();
            return new RpcClients(n => n.RpcUrl is null ? null : clients.GetOrAdd(n.Id, _ => new EvmRpcClient(http, new Uri(n.RpcUrl))));
        });
        services.AddSingleton(sp => new AuthorizationLookup(sp.GetRequiredService<RpcClients>().For, AuthorizationLookup.Permit2WindowFor(options.MaxTimeoutSeconds)));
        var factories = settings.SmartWalletFactorySet();
        services.AddSingleton(sp => new ContractSignatures(sp.GetRequiredService<RpcClients>().For, sp.GetRequiredService<TimeProvider>(), factories,
            settings.SmartWalletDeployMinimum));
        // The remote facilitator: settlement's default, and the one a link uses when no gas wallet is configured.
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<HttpFacilitator>(sp,
            new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = TimeSpan.FromSeconds(120) },
            new Uri(options.FacilitatorUrl)));
        var gasWalletKey = SecretValue.Resolved(settings.GasWalletKey);
        services.AddSingleton(sp => new BuiltInFacilitatorHolder(gasWalletKey is null
            ? null
            : ActivatorUtilities.CreateInstance<BuiltInFacilitator>(sp,
                new GasWallet(gasWalletKey),
                (Func<EvmNetwork, EvmRpcClient>)sp.GetRequiredService<RpcClients>().Require,
                new BuiltInFacilitatorOptions
                {
                    ReceiptTimeout = TimeSpan.FromSeconds(settings.ReceiptTimeoutSeconds),
                    MaxFeePerGas = new BigInteger(settings.MaxFeePerGasGwei) * 1_000_000_000,
                    MaxTimeoutSeconds = options.MaxTimeoutSeconds,
                    SmartWalletFactories = factories,
                    SmartWalletDeployMinimum = settings.SmartWalletDeployMinimum,
                    MaxTransferGas = settings.MaxTransferGas,
                    MaxContractWalletTransferGas = settings.MaxContractWalletTransferGas,
                    MaxPermit2SettleGas = settings.MaxPermit2SettleGas,
                    MaxBatchTransfers = settings.MaxBatchTransfers,
                    MaxBatchGas = settings.MaxBatchGas,
                    BatchGatherWindow = TimeSpan.FromMilliseconds(settings.BatchGatherMilliseconds),
                })));
        services.AddSingleton(sp => new FacilitatorCatalog(
            sp.GetRequiredService<HttpFacilitator>(), sp.GetRequiredService<BuiltInFacilitatorHolder>().Facilitator, settings.DefaultFacilitator));
        services.AddSingleton(new ConfirmationWait(TimeSpan.FromSeconds(settings.ReceiptTimeoutSeconds), TimeSpan.FromMilliseconds(250)));
        services.AddSingleton(new RetryPolicy(TimeSpan.FromMilliseconds(settings.RetryFirstMilliseconds), TimeSpan.FromMilliseconds(settings.RetryCapMilliseconds)));
        services.AddSingleton<SettlementProcessor>();
        services.AddSingleton<SettlementSignal>();
        services.AddSingleton<JobQueues>();
        if (string.IsNullOrWhiteSpace(options.ServiceBus.Namespace))
        {
            services.AddSingleton<IJobDispatcher, LocalJobDispatcher>();
        }
        else
        {
            services.AddSingleton<IJobDispatcher>(_ => ServiceBusJobDispatcher.Connect(new Uri(options.ServiceBus.Namespace), new DefaultAzureCredential()));
        }
        services.AddSingleton<MaintenancePass>();
        services.AddHostedSingleton<SettlementWorker>();
        return services;
    }
}

/// <summary>Per-network JSON-RPC clients; null for a network without an RPC URL.</summary>
internal sealed record RpcClients(Func<EvmNetwork, EvmRpcClient?> For)
{
    /// <summary>The network's client; a network without an RPC URL cannot be asked, like a node that is down.</summary>
    public EvmRpcClient Require(EvmNetwork network) =>
        For(network) ?? throw new RpcUnavailableException($"No RPC endpoint is configured for {network.Id}.");
}

/// <summary>The built-in facilitator, or null when no gas wallet is configured.</summary>
internal sealed record BuiltInFacilitatorHolder(BuiltInFacilitator? Facilitator);
