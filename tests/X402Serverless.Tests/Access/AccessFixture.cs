using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Access;

/// <summary>A gateway with the built-in facilitator served (a gas wallet, no chain: no request here reaches one).</summary>
public sealed class AccessFixture : IAsyncLifetime
{
    // anvil's public test account #1, never a real key; only the facilitator's admission runs here.
    private const string GasWalletKey = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

    internal const string PayTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";

    internal GatewayHost Gateway { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["X402:FacilitatorUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}",
            ["X402:PublicBaseUrl"] = "https://pay.example.test",
            ["X402:Settlement:GasWalletKey"] = GasWalletKey,
            ["X402:Settlement:RunWorker"] = "false",
            ["X402:Webhooks:RunWorker"] = "false",
        });

    public async Task DisposeAsync() => await Gateway.DisposeAsync();

    /// <summary>A fresh organisation (made by the operator) and its admin key's client.</summary>
    internal async Task<(HttpClient Admin, string OrganisationId)> NewOrganisationAsync(string name)
    {
        using var response = await Gateway.Admin.PostAsJsonAsync("/api/organisations", new { name });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (Gateway.Client(json.GetProperty("key").GetString()!), json.GetProperty("id").GetString()!);
    }

    /// <summary>A new key of the caller's organisation with this role: its client and id.</summary>
    internal async Task<(HttpClient Client, string Id)> NewKeyAsync(HttpClient admin, string role, bool facilitator = false)
    {
        using var response = await admin.PostAsJsonAsync("/api/keys", new { role, facilitator });
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.Created, json.ToString());
        return (Gateway.Client(json.GetProperty("key").GetString()!), json.GetProperty("id").GetString()!);
    }
}
