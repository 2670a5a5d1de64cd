using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Ports;
using X402Serverless.Tests.Support;
using X402Serverless.Core.Money;

namespace X402Serverless.Tests.Credits;

/// <summary>A gateway and an upstream, no chain: credits and allowances settle in the ledger, not on chain.</summary>
public sealed class CreditsFixture : IAsyncLifetime
{
    internal GatewayHost Gateway { get; private set; } = null!;

    internal static readonly string DeadRpcUrl = $"http://127.0.0.1:{PeerProcess.FreePort()}";

    internal const string StripeWebhookSecret = "whsec_test_gateway_endpoint_secret";

    internal const string KycWebhookSecret = "kyc_test_callback_secret";

    // A test-only attestation key (anvil's public account #3), never a real one.
    internal const string KycAttestationKey = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6";

    internal TestUpstream Upstream { get; private set; } = null!;

    internal FakeStripeApi Stripe { get; private set; } = null!;

    internal ILedger Ledger => Gateway.Services.GetRequiredService<ILedger>();

    public async Task InitializeAsync()
    {
        Upstream = await TestUpstream.StartAsync();
        Stripe = await FakeStripeApi.StartAsync();
        // As under the Functions host, so the timer and queue tests invoke its host-only routes the way the host does.
        Gateway = await GatewayHost.StartAsync(GatewayHost.UnderFunctionsHost(new Dictionary<string, string?>
        {
            ["X402:FacilitatorUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}",
            // Base Sepolia's node is a loopback port nobody listens on: the chain is deterministically unreachable here,
            // not merely because this machine has no route to the public RPC.
            ["X402:Networks:0:ChainId"] = "84532",
            ["X402:Networks:0:RpcUrl"] = DeadRpcUrl,
            ["X402:Credits:OperatorFeeBasisPoints"] = "100",
            ["X402:Stripe:SecretKey"] = "sk_test_gateway_secret_key",
            ["X402:Stripe:WebhookSecret"] = StripeWebhookSecret,
            ["X402:Stripe:ApiBase"] = Stripe.Url,
            ["X402:Stripe:SuccessUrl"] = "https://app.example/topped-up",
            ["X402:Stripe:CancelUrl"] = "https://app.example/cancelled",
            ["X402:Kyc:WebhookSecret"] = KycWebhookSecret,
            ["X402:Kyc:StartUrl"] = "https://verify.example/start?ref={subject}",
            ["X402:Kyc:AttestationKey"] = KycAttestationKey,
        }));
    }

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Upstream.DisposeAsync();
        await Stripe.DisposeAsync();
    }

    /// <summary>A new organisation (its own management client) so tests never share pools or budgets.</summary>
    internal async Task<HttpClient> NewOrganisationAsync()
    {
        using var response = await Gateway.Admin.PostAsJsonAsync("/api/organisations", new { name = $"Org {Guid.NewGuid():N}" });
        return Gateway.Client((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString());
    }

    internal static async Task<(string Id, string Key, string OrganisationId)> NewPayerAsync(HttpClient organisation, object body)
    {
        using var response = await organisation.PostAsJsonAsync("/api/payers", body);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException(json.ToString());
        }
        var payer = json.GetProperty("payer");
        return (payer.GetProperty("id").GetString()!, json.GetProperty("key").GetString()!, payer.GetProperty("organisationId").GetString()!);
    }

    internal async Task<(string Id, string Url, string Path)> NewLinkAsync(HttpClient organisation, string price, string[] accepts, string kind = "ok", object? extra = null)
    {
        var path = $"/{kind}/{Guid.NewGuid():N}";
        var body = new Dictionary<string, object?>
        {
            ["upstream"] = Upstream.BaseUrl + path, ["price"] = price, ["payTo"] = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", ["accepts"] = accepts,
        };
        foreach (var p in extra?.GetType().GetProperties() ?? [])
        {
            body[char.ToLowerInvariant(p.Name[0]) + p.Name[1..]] = p.GetValue(extra);
        }
        var (id, url) = await Gateway.CreateLinkAsync(body, organisation);
        return (id, url, path);
    }

    /// <summary>Funds an account as a completed top-up would (the top-up paths have their own tests).</summary>
    internal Task FundAsync(string account, long micros) =>
        Ledger.PostAsync(LedgerEntry.Transfer($"test-fund:{Guid.NewGuid():N}", "topup", Accounts.CardClearing, account, Usd.FromMicros(micros)), [], default);

    internal static async Task<HttpResponseMessage> CallAsync(string url, string payerKey)
    {
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", payerKey);
        return await client.SendAsync(request);
    }
}
