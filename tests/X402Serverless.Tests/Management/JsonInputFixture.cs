using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using X402Serverless.Tests.Credits;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Management;

/// <summary>
/// A gateway with every JSON-reading route switched on (card top-ups against a local fake Stripe, KYC, the built-in
/// facilitator's endpoints), one link and one payer to PATCH, and the catalogue of those routes with a valid body each.
/// No chain: no body here gets as far as one.
/// </summary>
public sealed class JsonInputFixture : IAsyncLifetime
{
    // anvil's public test account #1, never a real key; only the facilitator's parsing runs here.
    private const string GasWalletKey = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

    internal const string PayTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";

    internal GatewayHost Gateway { get; private set; } = null!;

    private FakeStripeApi _stripe = null!;

    internal HttpClient Payer { get; private set; } = null!;

    internal IReadOnlyList<JsonRoute> Routes { get; private set; } = [];

    internal string LinkId { get; private set; } = "";

    public async Task InitializeAsync()
    {
        _stripe = await FakeStripeApi.StartAsync();
        Gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["X402:FacilitatorUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}",
            ["X402:PublicBaseUrl"] = "https://pay.example.test",
            ["X402:Settlement:GasWalletKey"] = GasWalletKey,
            ["X402:Settlement:RunWorker"] = "false",
            // The fuzz sends hundreds of facilitator requests with one key: it tests their reading, not the rate limit.
            ["X402:Settlement:FacilitatorRequestsPerMinute"] = "1000000",
            ["X402:Webhooks:RunWorker"] = "false",
            ["X402:Stripe:SecretKey"] = "sk_test_gateway_secret_key",
            ["X402:Stripe:WebhookSecret"] = CreditsFixture.StripeWebhookSecret,
            ["X402:Stripe:ApiBase"] = _stripe.Url,
            ["X402:Stripe:SuccessUrl"] = "https://app.example/topped-up",
            ["X402:Stripe:CancelUrl"] = "https://app.example/cancelled",
            ["X402:Kyc:WebhookSecret"] = CreditsFixture.KycWebhookSecret,
            ["X402:Kyc:StartUrl"] = "https://verify.example/start?ref={subject}",
            ["X402:Kyc:AttestationKey"] = CreditsFixture.KycAttestationKey,
        });
        (LinkId, _) = await Gateway.CreateLinkAsync(new { upstream = "http://127.0.0.1:9/x", price = "0.01", payTo = PayTo });
        var (payerId, payerKey, _) = await CreditsFixture.NewPayerAsync(Gateway.Admin, new { name = "Fuzzed payer" });
        Payer = Gateway.Client(payerKey);
        const string Facilitator = """{"x402Version":2,"paymentPayload":{"x402Version":2,"accepted":{"scheme":"exact","network":"eip155:84532","amount":"10000","asset":"0x036CbD53842c5426634e7929541eC2318f3dCF7e","payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","maxTimeoutSeconds":300,"extra":{"name":"USDC","version":"2"}},"payload":{"signature":"0x2d6a7588d6acca505cbf0d9a4a227e0c52c6c34008c8e8986a1283259764173608a2ce6496642e377d6da8dbbf5836e9bd15092f9ecab05ded3d6293af148b571c","authorization":{"from":"0x857b06519E91e3A54538791bDbb0E22373e36b66","to":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","value":"10000","validAfter":"1740672089","validBefore":"1740672154","nonce":"0xf3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480"}}},"paymentRequirements":{"scheme":"exact","network":"eip155:84532","amount":"10000","asset":"0x036CbD53842c5426634e7929541eC2318f3dCF7e","payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","maxTimeoutSeconds":300,"extra":{"name":"USDC","version":"2"}}}""";
        Routes =
        [
            new("POST", "/api/links", """{"upstream":"http://127.0.0.1:9/x","price":"0.01","payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","name":"n","networks":["eip155:84532"],"methods":["GET"],"upstreamHeaders":{"X-Api-Key":"k"},"verifyOnChain":false,"dailyCapPerPayer":"1.00"}""", "invalid_json"),
            new("PATCH", $"/api/links/{LinkId}", """{"price":"0.02","name":"renamed","description":"d","kycCountries":["DE"],"kycLevel":"basic","accepts":["x402"],"priceRules":[{"method":"POST","pathPrefix":"/v2","price":"0.05"}]}""", "invalid_json"),
            new("POST", "/api/payers", """{"name":"p","monthlyAllowance":"5.00","monthlyCap":"10.00","creditLimit":"0"}""", "invalid_json"),
            new("PATCH", $"/api/payers/{payerId}", """{"name":"q","monthlyCap":null,"creditLimit":"1.00"}""", "invalid_json"),
            new("PUT", "/api/organisation/budget", """{"monthlyBudget":"500.00"}""", "invalid_json"),
            new("POST", "/api/organisations", """{"name":"Fuzz org"}""", "invalid_json"),
            new("POST", "/api/organisation/topups/card", """{"amount":"20.00"}""", "invalid_json"),
            new("POST", "/api/me/topups/card", """{"amount":"20.00"}""", "invalid_json", Client: JsonRouteClient.Payer),
            new("POST", "/api/me/kyc/attestations", """{"wallet":"0x857b06519E91e3A54538791bDbb0E22373e36b66"}""", "invalid_wallet", Client: JsonRouteClient.Payer),
            new("POST", "/facilitator/verify", Facilitator, "invalid_json"),
            new("POST", "/facilitator/settle", Facilitator, "invalid_json"),
            new("POST", "/hooks/stripe", """{"id":"evt_fuzz","type":"checkout.session.completed","data":{"object":{"id":"cs_fuzz","payment_status":"unpaid","currency":"usd","amount_total":500}}}""", "invalid_event", Client: JsonRouteClient.StripeSigned),
            new("POST", "/hooks/kyc", """{"id":"kyc_evt_fuzz","type":"verification.updated","subject":"payer_none","status":"verified","level":"basic","country":"DE","wallets":["0x857b06519E91e3A54538791bDbb0E22373e36b66"],"reference":"r","decidedAt":"2026-01-01T00:00:00Z"}""", "invalid_event", Client: JsonRouteClient.KycSigned),
        ];
    }

    /// <summary>Sends raw bytes to a route as its caller would: management key, payer key, or signed like the sender.</summary>
    internal async Task<HttpResponseMessage> SendAsync(JsonRoute route, byte[] body)
    {
        using var request = new HttpRequestMessage(new HttpMethod(route.Method), route.Path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        switch (route.Client)
        {
            case JsonRouteClient.StripeSigned:
                request.Headers.TryAddWithoutValidation("Stripe-Signature", Sign(body, CreditsFixture.StripeWebhookSecret));
                break;
            case JsonRouteClient.KycSigned:
                request.Headers.TryAddWithoutValidation("Kyc-Signature", Sign(body, CreditsFixture.KycWebhookSecret));
                break;
        }
        return await (route.Client == JsonRouteClient.Payer ? Payer : Gateway.Admin).SendAsync(request);
    }

    // The documented webhook signature: HMAC-SHA256 of "{t}.{body}" in a "t=…,v1=…" header.
    private static string Sign(byte[] body, string secret)
    {
        var t = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var signed = Encoding.UTF8.GetBytes(t + ".").Concat(body).ToArray();
        return $"t={t},v1={Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed))}";
    }

    public async Task DisposeAsync()
    {
        Payer.Dispose();
        await Gateway.DisposeAsync();
        await _stripe.DisposeAsync();
    }
}

internal enum JsonRouteClient
{
    Admin,
    Payer,
    StripeSigned,
    KycSigned,
}

/// <summary>A route that reads a JSON body, a valid body for it, and the code its malformed bodies get.</summary>
internal sealed record JsonRoute(string Method, string Path, string ValidBody, string MalformedCode, JsonRouteClient Client = JsonRouteClient.Admin)
{
    public override string ToString() => $"{Method} {Path}";
}
