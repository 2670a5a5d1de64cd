using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;
using X402Serverless.Core.Ports;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Webhooks;

/// <summary>A gateway (balances pay, no chain) sending webhooks to a loopback receiver, with fast retries.</summary>
public class WebhooksFixture : IAsyncLifetime
{
    internal const string PayTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";
    internal const int MaxAttempts = 4;

    internal GatewayHost Gateway { get; private set; } = null!;

    internal WebhookReceiver Receiver { get; private set; } = null!;

    public virtual async Task InitializeAsync()
    {
        Receiver = await WebhookReceiver.StartAsync();
        Gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["X402:FacilitatorUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}",
            ["X402:Networks:0:ChainId"] = "84532",
            ["X402:Networks:0:RpcUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}",
            ["X402:OutboundWebhooks:FirstRetrySeconds"] = "0.05",
            ["X402:OutboundWebhooks:MaxRetrySeconds"] = "0.2",
            ["X402:OutboundWebhooks:MaxAttempts"] = MaxAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["X402:OutboundWebhooks:PollSeconds"] = "0.05",
            ["X402:OutboundWebhooks:TimeoutSeconds"] = "10",
        });
    }

    public virtual async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Receiver.DisposeAsync();
    }

    internal async Task<HttpClient> NewOrganisationAsync()
    {
        using var response = await Gateway.Admin.PostAsJsonAsync("/api/organisations", new { name = $"Org {Guid.NewGuid():N}" });
        return Gateway.Client((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString());
    }

    /// <summary>A new endpoint to the receiver's <paramref name="name"/>; its id and its secret (shown this once).</summary>
    internal async Task<(string Id, string Secret)> NewEndpointAsync(HttpClient organisation, string name, params string[] events)
    {
        using var response = await organisation.PostAsJsonAsync("/api/webhooks", new
        {
            url = Receiver.Url(name),
            events = events.Length > 0 ? events : ["charge.captured"],
            description = "test receiver",
        });
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode, json.ToString());
        return (json.GetProperty("endpoint").GetProperty("id").GetString()!, json.GetProperty("secret").GetString()!);
    }

    internal static async Task<JsonElement> SendTestAsync(HttpClient organisation, string endpointId)
    {
        using var response = await organisation.PostAsync($"/api/webhooks/{endpointId}/test", null);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Accepted, json.ToString());
        return json;
    }

    /// <summary>Reads the delivery until <paramref name="until"/> holds (bounded: a delivery that never settles fails the test).</summary>
    internal static async Task<JsonElement> WaitForDeliveryAsync(HttpClient organisation, string endpointId, string deliveryId, Func<JsonElement, bool> until)
    {
        JsonElement last = default;
        await Poll.UntilAsync(async () =>
        {
            last = await organisation.GetFromJsonAsync<JsonElement>($"/api/webhooks/{endpointId}/deliveries/{deliveryId}");
            return until(last);
        }, TimeSpan.FromSeconds(30));
        return last;
    }

    internal static Task<JsonElement> WaitForStatusAsync(HttpClient organisation, string endpointId, string deliveryId, string status) =>
        WaitForDeliveryAsync(organisation, endpointId, deliveryId, d => d.GetProperty("status").GetString() == status);

    /// <summary>What the official stripe package says of each secret for this body and header: the event id, or null when it refuses.</summary>
    internal static async Task<IReadOnlyList<string?>> StripeVerifiesAsync(string body, string header, int toleranceSeconds, params string[] secrets)
    {
        var output = await PeerProcess.RunNodeWithInputAsync(null, body, ["webhook-verify.mjs", header, toleranceSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), .. secrets]);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement)
            .Select(r => r.GetProperty("ok").GetBoolean() ? r.GetProperty("id").GetString() : null)
            .ToList();
    }

    internal Task FundAsync(string account, long micros) =>
        Gateway.Services.GetRequiredService<ILedger>().PostAsync(
            LedgerEntry.Transfer($"test-fund:{Guid.NewGuid():N}", "topup", Accounts.CardClearing, account, Usd.FromMicros(micros)), [], default);
}
