using Microsoft.Extensions.Options;
using X402Serverless.Core.Facilitation;
using X402Serverless.Core.Networks;
using X402Serverless.Handler.Kyc;
using X402Serverless.Handler.Management;

namespace X402Serverless.Handler.Hosting;

/// <summary>What runs once before the gateway serves: store set-up, the first admin key, and the summary of its settings.</summary>
internal sealed class GatewayStartup(
    // Taken first, so a malformed KYC attestation key or trusted signer stops the start rather than failing paid calls later.
    KycAttestor attestor,
    IStoreInitializer stores,
    AdminKeyBootstrapper adminKey,
    HttpFacilitator remoteFacilitator,
    NetworkRegistry networks,
    BuiltInFacilitatorHolder builtIn,
    IOptions<GatewayOptions> options,
    ILoggerFactory loggers)
{
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        _ = attestor;
        await stores.InitializeAsync(cancellationToken);
        await adminKey.RunAsync(cancellationToken);
        // A first probe of the remote facilitator, so its health is known by the first paid call; not awaited.
        _ = remoteFacilitator.IsAvailableAsync(cancellationToken).AsTask();
        StartupSummary.Log(loggers.CreateLogger("X402Serverless.Startup"),
            StartupSummary.Describe(options.Value, networks, builtIn.Facilitator?.Wallet.Address.ToString()));
    }
}
