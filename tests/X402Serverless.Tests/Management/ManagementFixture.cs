using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Management;

/// <summary>A gateway with no chain behind it: the management API needs none.</summary>
public sealed class ManagementFixture : IAsyncLifetime
{
    internal GatewayHost Gateway { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["X402:FacilitatorUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}",
            ["X402:PublicBaseUrl"] = "https://pay.example.test",
        });

    public async Task DisposeAsync() => await Gateway.DisposeAsync();
}
