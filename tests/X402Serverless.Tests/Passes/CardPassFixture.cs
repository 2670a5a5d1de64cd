using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Webhooks;
using X402Serverless.Tests.Stripe;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Passes;

/// <summary>
/// A gateway that sells passes by card: Stripe is the fake API (Stripe's wire format) hosting its own checkout page,
/// so a browser can follow the paywall's redirect there; webhooks are signed by the official stripe package.
/// </summary>
public sealed class CardPassFixture : IAsyncLifetime
{
    internal const string WebhookSecret = "whsec_test_card_pass_secret";

    internal GatewayHost Gateway { get; private set; } = null!;

    internal TestUpstream Upstream { get; private set; } = null!;

    internal FakeStripeApi Stripe { get; private set; } = null!;

    internal IPassStore Passes => Gateway.Services.GetRequiredService<IPassStore>();

    internal IWebhookInbox Inbox => Gateway.Services.GetRequiredKeyedService<IWebhookInbox>(WebhookSources.Stripe);

    public async Task InitializeAsync()
    {
        Upstream = await TestUpstream.StartAsync();
        Stripe = await FakeStripeApi.StartAsync(hostsCheckout: true);
        Gateway = await GatewayHost.StartAsync(GatewayHost.UnderFunctionsHost(new Dictionary<string, string?>
        {
            ["X402:FacilitatorUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}",
            ["X402:Networks:0:ChainId"] = "84532",
            ["X402:Networks:0:RpcUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}",
            ["X402:Credits:OperatorFeeBasisPoints"] = "100",
            ["X402:Stripe:SecretKey"] = "sk_test_gateway_secret_key",
            ["X402:Stripe:WebhookSecret"] = WebhookSecret,
            ["X402:Stripe:ApiBase"] = Stripe.Url,
            ["X402:Stripe:CheckoutOrigin"] = Stripe.Url,
        }));
    }

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Upstream.DisposeAsync();
        await Stripe.DisposeAsync();
    }

    internal async Task<(HttpClient Org, string OrganisationId)> NewOrganisationAsync()
    {
        using var response = await Gateway.Admin.PostAsJsonAsync("/api/organisations", new { name = $"Org {Guid.NewGuid():N}" });
        var org = Gateway.Client((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString());
        return (org, (await org.GetFromJsonAsync<JsonElement>("/api/organisation")).GetProperty("id").GetString()!);
    }

    /// <summary>A link taking credits (by default) that sells <paramref name="pass"/>.</summary>
    internal async Task<(string Id, string Url, string Path)> NewPassLinkAsync(HttpClient org, object pass, string[]? accepts = null, string kind = "ok")
    {
        var path = $"/{kind}/{Guid.NewGuid():N}";
        var (id, url) = await Gateway.CreateLinkAsync(new
        {
            upstream = Upstream.BaseUrl + path, price = "0.01", payTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
            accepts = accepts ?? ["credits"], name = "Card API", pass,
        }, org);
        return (id, url, path);
    }

    /// <summary>Posts the paywall's card form as the page would (same-origin); redirects are not followed.</summary>
    internal async Task<HttpResponseMessage> PostCardFormAsync(HttpClient browser, string linkId, string? payerKey = null, string site = "same-origin")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{Gateway.BaseUrl}/pass/{linkId}/card")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["payerKey"] = payerKey ?? "" }),
        };
        request.Headers.Add("Sec-Fetch-Site", site);
        return await browser.SendAsync(request);
    }

    /// <summary>A browser-like client: keeps cookies, does not follow redirects.</summary>
    internal static HttpClient Browser() => new(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() });

    /// <summary>The Checkout Session the gateway opened for the link (the fake Stripe saw it).</summary>
    internal SentSession SessionFor(string linkId) => Stripe.Sessions.Single(s => s.Form.GetValueOrDefault("client_reference_id") == linkId);

    internal static string CompletedEvent(string eventId, string sessionId, long cents, string paymentStatus = "paid", object? metadata = null,
        string type = "checkout.session.completed", string? clientReference = null) => JsonSerializer.Serialize(new
    {
        id = eventId, @object = "event", type,
        data = new
        {
            @object = new
            {
                id = sessionId, @object = "checkout.session", payment_status = paymentStatus, currency = "usd", amount_total = cents,
                client_reference_id = clientReference, metadata = metadata ?? new { purpose = "pass" },
            },
        },
    });

    internal static async Task<string> SignAsync(string payload) =>
        await WebhookSignatureTests.OfficialHeaderAsync(payload, WebhookSecret, DateTimeOffset.UtcNow.ToUnixTimeSeconds());

    internal async Task<HttpResponseMessage> DeliverAsync(string payload, string? signature = null)
    {
        using var client = Gateway.Client();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/stripe") { Content = new StringContent(payload, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Stripe-Signature", signature ?? await SignAsync(payload));
        return await client.SendAsync(request);
    }

    /// <summary>Waits until the stored event has been applied.</summary>
    internal async Task WaitProcessedAsync(string eventId)
    {
        Assert.NotNull(await Inbox.PayloadAsync(eventId, default));
        await Poll.UntilAsync(async () => (await Inbox.PendingAsync(1000, default)).All(e => e.Id != eventId), TimeSpan.FromSeconds(60));
    }
}
