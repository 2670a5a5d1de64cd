using System.Text;
using System.Text.Json.Nodes;
using X402Serverless.Core.Protocol;
using X402Serverless.Handler.Hosting;
using X402Serverless.Handler.Listings;

namespace X402Serverless.Handler.Paywall;

/// <summary>
/// The 402: v2 PAYMENT-REQUIRED header and v1 JSON body at once, so clients of either generation can pay; a
/// browser gets a readable page instead of the JSON body.
/// </summary>
internal sealed class PaymentRequiredResponder(PublicUrls urls, Microsoft.Extensions.Options.IOptions<GatewayOptions> options, TimeProvider time,
    Core.Networks.NetworkRegistry? networks = null)
{
    private readonly Uri? _linksOrigin = LinksOrigin.Parse(options.Value.LinksOrigin);

    // Card checkouts need Stripe's key; the page's policy names the one origin the card form's redirect may go to.
    private readonly string? _checkoutOrigin = SecretValue.Resolved(options.Value.Stripe.SecretKey) is not null
        && Uri.TryCreate(options.Value.Stripe.CheckoutOrigin, UriKind.Absolute, out var checkout) && checkout.Scheme is "https" or "http"
            ? checkout.GetLeftPart(UriPartial.Authority)
            : null;
    private readonly bool _behindFrontDoor = !string.IsNullOrWhiteSpace(options.Value.FrontDoorId);

    public async Task WriteAsync(HttpContext http, CachedLink cached, string reason, string? message)
    {
        var request = http.Request;
        var resource = urls.ResourceUrl(request);
        var baseUrl = urls.BaseUrl(request);
        var response = http.Response;
        response.StatusCode = StatusCodes.Status402PaymentRequired;
        response.Headers.AccessControlExposeHeaders = PaymentHeaders.Exposed;
        response.Headers.CacheControl = "no-store";
        // The plain challenge (no message) is the same bytes for every request of this price, method and URL; one
        // selling a pass carries a fresh sign-in-with-x nonce each time.
        var plain = reason == ReasonCodes.PaymentRequired && message is null && cached.Link.Pass is null;
        var rendered = plain ? cached.Challenges.Find(cached.Price, request.Method, resource, baseUrl) : null;
        if (rendered is null)
        {
            rendered = Render(cached, reason, message, request.Method, resource, baseUrl, options.Value.Transfers, time.GetUtcNow());
            if (plain)
            {
                cached.Challenges.Remember(cached.Price, request.Method, resource, baseUrl, rendered);
            }
        }
        response.Headers[PaymentHeaders.RequiredV2] = rendered.Header;
        if (WantsHtml(request) && reason == ReasonCodes.PaymentRequired)
        {
            var nonce = PaywallPage.NewNonce();
            // On a separate links origin, where providers' pages run unsandboxed, the page takes no payer key (nor opens
            // a card checkout, whose key comes back to the gateway's origin), and its script comes from the gateway's
            // own origin (the links origin serves /l/ only).
            var onLinksOrigin = OnLinksOrigin(request);
            var card = CardFormAction(request, cached.Link);
            response.ContentType = "text/html; charset=utf-8";
            response.Headers.ContentSecurityPolicy = PaywallPage.ContentSecurityPolicy(nonce, card is null ? null : _checkoutOrigin);
            response.Headers.XContentTypeOptions = "nosniff";
            response.Headers["Referrer-Policy"] = "no-referrer";
            var scriptBase = onLinksOrigin ? baseUrl : request.PathBase.ToString();
            var view = new PaywallView(cached.Link, cached.Price, cached.Requirements, resource, request.Method, rendered.Header, nonce,
                $"{scriptBase}{WalletScript.Path}?v={WalletScript.Version}", onLinksOrigin ? null : PaywallEndpoints.CreditsFormAction(request), card)
            {
                SignInChainIds = networks is null ? [] : cached.Link.Networks.Select(id => networks.TryGet(id, out var n) ? n.ChainId : (long?)null).OfType<long>().ToList(),
            };
            await response.WriteAsync(PaywallPage.Render(view), http.RequestAborted);
            return;
        }
        response.ContentType = "application/json";
        // A known length: Kestrel sends headers and body in one write, without chunked framing.
        response.ContentLength = rendered.Body.Length;
        await response.Body.WriteAsync(rendered.Body, http.RequestAborted);
    }

    /// <summary>Whether the request came to the separate links origin (where providers' pages run unsandboxed).</summary>
    public bool OnLinksOrigin(HttpRequest request) => _linksOrigin is not null && LinksOrigin.Addressed(request, _linksOrigin, _behindFrontDoor);

    /// <summary>Stripe's checkout origin, when card checkouts are configured: a page with a card form names it in its form-action.</summary>
    public string? CheckoutOrigin => _checkoutOrigin;

    /// <summary>
    /// Where a page's card form for the link's pass posts (/pass/{id}/card); null when there is none here: no pass, a
    /// price a card cannot charge, Stripe not configured, or the links origin (the buyer's key comes back to the
    /// gateway's origin).
    /// </summary>
    public string? CardFormAction(HttpRequest request, Core.Links.PaidLink link) =>
        !OnLinksOrigin(request) && _checkoutOrigin is not null && link.Pass is { } pass && Passes.CardCheckouts.Chargeable(pass)
            ? request.PathBase + Passes.CardCheckouts.FormAction(link.Id)
            : null;

    private static RenderedChallenge Render(CachedLink cached, string reason, string? message, string method, string resource, string baseUrl,
        Transfers.TransferOptions transfers, DateTimeOffset now)
    {
        var link = cached.Link;
        var description = link.Description ?? link.Name ?? "Paid API call";
        var v2Accepts = new JsonArray();
        var v1Accepts = new JsonArray();
        var v1Discovery = cached.Bazaar?.V1OutputSchema(method);
        foreach (var r in cached.Requirements)
        {
            v2Accepts.Add(RequirementJson.V2(r));
            if (RequirementJson.V1(r, resource, description, "", method, v1Discovery?.DeepClone().AsObject()) is { } v1)
            {
                v1Accepts.Add(v1);
            }
        }
        var resourceInfo = new JsonObject { ["url"] = resource, ["description"] = description, ["mimeType"] = "" };
        cached.Bazaar?.Describe(resourceInfo);
        var required = new JsonObject
        {
            ["x402Version"] = 2,
            ["error"] = reason,
            ["resource"] = resourceInfo,
            ["accepts"] = v2Accepts,
            ["extensions"] = Extensions(cached, method, resource, baseUrl, transfers, now),
        };
        var body = new JsonObject
        {
            ["x402Version"] = 1,
            ["error"] = reason,
            ["accepts"] = v1Accepts,
        };
        if (message is not null)
        {
            body["message"] = message;
        }
        return new RenderedChallenge(
            Convert.ToBase64String(Encoding.UTF8.GetBytes(required.ToJsonString())),
            Encoding.UTF8.GetBytes(body.ToJsonString()));
    }

    // A link that takes balances says so, so a payer knows a prepaid key works here and where to top up.
    // One that asks for KYC says so too.
    private static JsonObject Extensions(CachedLink cached, string method, string resource, string baseUrl, Transfers.TransferOptions transfers, DateTimeOffset now)
    {
        var link = cached.Link;
        var price = cached.Price;
        var extensions = new JsonObject();
        var balanceTypes = link.Accepts.Where(a => a is Core.Links.PaymentTypes.Credits or Core.Links.PaymentTypes.Allowance).ToList();
        if (balanceTypes.Count > 0)
        {
            extensions["credits"] = new JsonObject
            {
                ["accepts"] = new JsonArray(balanceTypes.Select(t => (JsonNode?)JsonValue.Create(t)).ToArray()),
                ["price"] = price.ToString(),
                ["currency"] = "USD",
                ["authorization"] = "Bearer <payer key>",
                ["topUpUrl"] = $"{baseUrl}/api/me/topup",
                ["accountUrl"] = $"{baseUrl}/api/me",
                // A wallet bound to a payer account signs in instead of sending a key, with this statement and this uri:
                // the proof then pays for this path and method, up to this price, and nothing else.
                ["signIn"] = new JsonObject { ["statement"] = Core.Passes.CreditSpendStatement.For(price, method), ["uri"] = resource },
            };
        }
        if (link.KycLevel != Core.Kyc.KycLevels.None)
        {
            // Payers learn before signing that only verified identities may pay, and where to verify once.
            extensions["kyc"] = new JsonObject
            {
                ["level"] = link.KycLevel,
                ["countries"] = new JsonArray(link.KycCountries.Select(c => (JsonNode?)JsonValue.Create(c)).ToArray()),
                ["verifyUrl"] = $"{baseUrl}/api/me/kyc",
            };
        }
        if (cached.Requirements.Count > 0)
        {
            extensions[Core.Idempotency.PaymentIdentifiers.ExtensionKey] = PaymentIdentifierDeclaration(link.PaymentIdentifierRequired);
        }
        if (link.AcceptsTransfer && cached.Requirements.Count > 0)
        {
            extensions[Transfers.TransferOffer.ExtensionKey] = Transfers.TransferOffer.Declare(cached.Requirements, transfers);
        }
        if (link.Pass is { } pass)
        {
            Passes.PassChallenge.Declare(extensions, link, pass, resource, baseUrl, now,
                balanceTypes.Count > 0 ? Core.Passes.CreditSpendStatement.For(price, method) : Passes.PassChallenge.Statement);
        }
        // A listed link describes how to call it, so Bazaar crawlers and agents index it (only listed links are public).
        if (cached.Bazaar?.Declare(method) is { } bazaar)
        {
            extensions[BazaarExtension.Key] = bazaar;
        }
        return extensions;
    }

    // x402 payment-identifier: a payer may (or, when required, must) name its payment so a retry is never paid twice.
    private static JsonObject PaymentIdentifierDeclaration(bool required) => new()
    {
        ["info"] = new JsonObject { ["required"] = required },
        ["schema"] = new JsonObject
        {
            ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
            ["type"] = "object",
            ["properties"] = new JsonObject
            {
                ["required"] = new JsonObject { ["type"] = "boolean" },
                ["id"] = new JsonObject
                {
                    ["type"] = "string",
                    ["minLength"] = Core.Idempotency.PaymentIdentifiers.MinLength,
                    ["maxLength"] = Core.Idempotency.PaymentIdentifiers.MaxLength,
                    ["pattern"] = "^[a-zA-Z0-9_-]+$",
                },
            },
            ["required"] = new JsonArray("required"),
        },
    };

    private static bool WantsHtml(HttpRequest request) =>
        request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);
}
