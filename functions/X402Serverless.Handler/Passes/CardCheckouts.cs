using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using X402Serverless.Core.Access;
using X402Serverless.Core.Kyc;
using X402Serverless.Core.Passes;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Hosting;
using X402Serverless.Handler.Payers;
using X402Serverless.Handler.Paywall;
using X402Serverless.Handler.Problems;
using X402Serverless.Handler.Stripe;

namespace X402Serverless.Handler.Passes;

/// <summary>
/// Buying a link's pass by card from the paywall, with script off: POST /pass/{linkId}/card (the paywall's form)
/// opens a one-off Stripe Checkout Session for the pass's price, records it (<see cref="PassCheckout"/>) and
/// redirects there (303); GET /pass/{linkId}/card/done is where Stripe sends the buyer back. The pass itself is
/// issued by the signed webhook (<see cref="CardPassFulfilment"/>), bound to a payer account: the buyer's own when a
/// payer key came with the form, else one made for the buyer whose key waits in this browser's cookie (HttpOnly,
/// scoped to these two URLs) and is shown once on the return page.
/// </summary>
internal static class CardCheckouts
{
    /// <summary>Stripe's smallest USD charge.</summary>
    public const long MinimumCents = 50;

    private const int MaxFormBytes = 4096;

    public static void MapCardCheckouts(this IEndpointRouteBuilder app)
    {
        app.MapPost("/pass/{linkId}/card", StartAsync).DisableAntiforgery();
        app.MapGet("/pass/{linkId}/card/done", CardReturnPage.ShowAsync);
    }

    /// <summary>Whether a pass's price can be charged by card: whole cents, at least Stripe's minimum.</summary>
    public static bool Chargeable(PassOffer offer) => offer.Price.WholeCents is >= MinimumCents;

    /// <summary>Stripe Checkout Session ids ("cs_test_…", "cs_live_…"); anything else is not looked up.</summary>
    public static bool IsSessionId(string? id) =>
        id is { Length: > 3 and <= 255 } && id.StartsWith("cs_", StringComparison.Ordinal) && id.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    public static string FormAction(string linkId) => $"/pass/{Uri.EscapeDataString(linkId)}/card";

    /// <summary>One cookie per checkout, so two checkouts in one browser keep both keys.</summary>
    public static string CookieName(string sessionId) =>
        "x402_card_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sessionId)))[..16];

    public static CookieOptions CookieOptions(HttpRequest request, string linkId, PublicUrls urls) => new()
    {
        // Sent back on Stripe's redirect (a top-level GET), never on another site's post; readable by no script. Secure
        // whenever the public origin is https, even if TLS ended at a proxy in front of this process.
        HttpOnly = true,
        SameSite = SameSiteMode.Lax,
        Secure = request.IsHttps || urls.BaseUrl(request).StartsWith("https://", StringComparison.OrdinalIgnoreCase),
        Path = FormAction(linkId),
        MaxAge = TimeSpan.FromDays(1),
        IsEssential = true,
    };

    private static async Task<IResult> StartAsync(string linkId, HttpContext http, LinkCache links, IPassStore passes, IPayerStore payers, IKycStore kyc,
        StripeCheckoutClient stripe, PublicUrls urls, RateLimits.RateLimitGate limits, TimeProvider time)
    {
        var request = http.Request;
        // Stripe's return address is built from this origin: without PublicBaseUrl a relayed Host would name another
        // site (a checkout link sent to a victim would return there), so only loopback may go without it.
        if (!urls.IsConfigured && !FunctionsHost.IsLoopbackHost(request.Host.Host))
        {
            return Problem.Of(StatusCodes.Status503ServiceUnavailable, "public_base_url_required", "Card checkouts need the gateway's public address.",
                "The operator sets X402:PublicBaseUrl.");
        }
        // The paywall's own form only, as for the payer-key form: another site must not open checkouts in a visitor's name.
        if (request.Headers["Sec-Fetch-Site"].ToString() is { Length: > 0 } site && site is not ("same-origin" or "none"))
        {
            return Problem.Of(StatusCodes.Status403Forbidden, "cross_site_form", "The paywall's form is accepted from its own page only.",
                "Open the paid link and use the form there.");
        }
        if (!request.HasFormContentType || request.ContentLength is not (>= 0 and <= MaxFormBytes))
        {
            return Problem.Of(StatusCodes.Status400BadRequest, "invalid_paywall_form", "Send the paywall's form: url-encoded, with a length.",
                "Open the paid link in a browser and use the form there.");
        }
        if (await links.GetAsync(linkId, http.RequestAborted) is not { Link: { Pass: { } offer } link })
        {
            return Problem.NotFound("Pass offer");
        }
        if (link.Disabled)
        {
            return Problem.LinkDisabled();
        }
        if (!stripe.Configured)
        {
            return Problem.Of(StatusCodes.Status404NotFound, "stripe_not_configured", "Card payments are not configured here.");
        }
        if (offer.Price.WholeCents is not { } cents || cents < MinimumCents)
        {
            return Problem.Of(StatusCodes.Status400BadRequest, "card_price_unsupported", "This pass cannot be paid by card.",
                "A card charge is whole cents and at least $0.50; pay for the pass another way.");
        }
        var form = await request.ReadFormAsync(http.RequestAborted);
        var typed = form["payerKey"].ToString().Trim();
        Core.Payers.Payer? payer = null;
        if (typed.Length > 0)
        {
            if (!typed.StartsWith(PayerKeys.Prefix, StringComparison.Ordinal) || typed.Length > 200)
            {
                return Problem.Of(StatusCodes.Status400BadRequest, "invalid_payer_key", "That is not a payer key.",
                    $"Leave the field empty to get a new payer account, or paste a payer key (it starts with {PayerKeys.Prefix}).");
            }
            payer = await payers.FindByKeyHashAsync(ManagementKeys.Hash(typed), http.RequestAborted);
            if (payer is null)
            {
                return Problem.Of(StatusCodes.Status401Unauthorized, "invalid_payer_key", "The payer key is not valid.");
            }
        }
        // A verified identity is a payer's: a buyer without an account has none yet.
        if (link.KycLevel != KycLevels.None && (payer is null || !ChargeResults.Verified(await kyc.GetAsync(payer.Id, http.RequestAborted), link)))
        {
            return ChargeResults.KycRequired(link);
        }

        if (limits.AdmitCardCheckout(http) is { } limited)
        {
            return limited;
        }
        var baseUrl = urls.BaseUrl(request);
        var (sessionId, checkoutUrl, error) = await stripe.CreateAsync(cents, $"Pass for {link.Name ?? link.Id}: {PassText.Bounds(offer)}",
            new Dictionary<string, string> { ["purpose"] = "pass", ["link_id"] = link.Id }, link.Id, "pass:" + Guid.NewGuid().ToString("N"),
            http.RequestAborted,
            successUrl: $"{baseUrl}{FormAction(link.Id)}/done?session_id={{CHECKOUT_SESSION_ID}}",
            cancelUrl: $"{urls.LinkBaseUrl(request)}/l/{Uri.EscapeDataString(link.Id)}");
        if (error is not null || !IsSessionId(sessionId))
        {
            return Problem.Of(StatusCodes.Status502BadGateway, "stripe_unavailable", "The card payment could not be started; nothing was charged.", error);
        }
        // A buyer without an account gets one when paid: its key is made now and kept by this browser only.
        var newKey = payer is null ? PayerKeys.NewKey() : null;
        var checkout = new PassCheckout
        {
            SessionId = sessionId!,
            LinkId = link.Id,
            OrganisationId = link.OrganisationId,
            Offer = offer,
            PayerId = payer?.Id ?? PassCheckout.NewPayerIdFor(sessionId!),
            NewKeyId = newKey is null ? null : PassCheckout.NewKeyIdFor(sessionId!),
            NewKeyHash = newKey is null ? null : ManagementKeys.Hash(newKey),
            CreatedAt = time.GetUtcNow(),
        };
        // Recorded before the buyer is sent to pay: a session the gateway has no record of never reaches a buyer.
        await passes.AddCheckoutAsync(checkout, http.RequestAborted);
        if (newKey is not null)
        {
            http.Response.Cookies.Append(CookieName(sessionId!), newKey, CookieOptions(request, link.Id, urls));
        }
        http.Response.Headers.CacheControl = "no-store";
        http.Response.Headers.Location = checkoutUrl;
        return Results.StatusCode(StatusCodes.Status303SeeOther);
    }
}
