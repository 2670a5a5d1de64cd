using X402Serverless.Core.Chain;
using X402Serverless.Core.Networks;

namespace X402Serverless.Handler.Hosting;

/// <summary>
/// At start, asks each network's token for its EIP-712 domain and refuses new payments on a network whose token
/// disagrees with the configuration (every such payment would fail on chain after its upstream served). Runs beside
/// the start, not before it: a node that cannot be reached is reported and the network left as configured.
/// </summary>
internal sealed partial class TokenDomainVerifier(NetworkRegistry networks, RpcClients rpcs, ILogger<TokenDomainVerifier> logger) : BackgroundService
{
    private static readonly TimeSpan PerNetwork = TimeSpan.FromSeconds(15);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(networks.All.Select(n => rpcs.For(n) is { } rpc ? CheckAsync(n, rpc, stoppingToken) : Task.CompletedTask));

    private async Task CheckAsync(EvmNetwork network, EvmRpcClient rpc, CancellationToken stoppingToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        timeout.CancelAfter(PerNetwork);
        try
        {
            if (await TokenDomainCheck.MismatchAsync(network, rpc, timeout.Token) is { } mismatch)
            {
                network.Refuse(mismatch);
                Log.Refused(logger, network.Id, mismatch);
            }
            else
            {
                Log.Verified(logger, network.Id, network.Domain.Name, network.Domain.Version);
            }
        }
        catch (Exception e) when (e is RpcUnavailableException or OperationCanceledException && !stoppingToken.IsCancellationRequested)
        {
            Log.Unverified(logger, network.Id, e.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(60, LogLevel.Error, "Network {Network} takes no payments: {Mismatch}.")]
        public static partial void Refused(ILogger logger, string network, string mismatch);

        [LoggerMessage(61, LogLevel.Information, "Network {Network}: the token's EIP-712 domain is \"{Name}\" version {Version}, as configured.")]
        public static partial void Verified(ILogger logger, string network, string name, string version);

        [LoggerMessage(62, LogLevel.Warning, "Network {Network}: the token's EIP-712 domain could not be checked ({Reason}); payments are taken as configured.")]
        public static partial void Unverified(ILogger logger, string network, string reason);
    }
}
