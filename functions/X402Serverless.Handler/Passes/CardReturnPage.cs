using System.Globalization;
using System.Net;
using X402Serverless.Core.Access;
using X402Serverless.Core.Passes;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Hosting;
using X402Serverless.Handler.Paywall;

namespace X402Serverless.Handler.Passes;

/// <summary>
/// Where Stripe sends a card buyer back (GET /pass/{linkId}/card/done?session_id=…): the pass once the signed
/// webhook has issued it (until then a page that reloads itself, no script), and for a buyer who had no account, the
/// new payer key, once: it comes from this browser's own cookie, must match the hash the checkout recorded, and the
/// cookie is deleted as it is shown. Nothing on the page is secret otherwise.
/// </summary>
internal static class CardReturnPage
{
    public static async Task<IResult> ShowAsync(string linkId, HttpContext http, IPassStore passes, PublicUrls urls, TimeProvider time)
    {
        var request = http.Request;
        var response = http.Response;
        var sessionId = request.Query["session_id"].ToString();
        if (!CardCheckouts.IsSessionId(sessionId) || await passes.GetCheckoutAsync(sessionId, http.RequestAborted) is not { } checkout
            || checkout.LinkId != linkId)
        {
            return Problems.Problem.NotFound("Card checkout");
        }
        var pass = await passes.GetAsync(linkId, PassIds.For(linkId, checkout.PaymentRef), http.RequestAborted);
        string? key = null;
        var keyGone = false;
        if (pass is not null && checkout.NewKeyHash is { } hash)
        {
            var cookie = CardCheckouts.CookieName(sessionId);
            if (request.Cookies[cookie] is { } held && ManagementKeys.Hash(held) == hash)
            {
                key = held;
                response.Cookies.Delete(cookie, CardCheckouts.CookieOptions(request, linkId, urls));
            }
            else
            {
                keyGone = true;
            }
        }
        var nonce = PaywallPage.NewNonce();
        response.Headers.CacheControl = "no-store";
        response.Headers.ContentSecurityPolicy = $"default-src 'none'; style-src 'nonce-{nonce}'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
        var linkUrl = $"{urls.LinkBaseUrl(request)}/l/{Uri.EscapeDataString(linkId)}";
        return Results.Content(Render(checkout, pass, key, keyGone, linkUrl, nonce, time.GetUtcNow()), "text/html; charset=utf-8");
    }

    private static string Render(PassCheckout checkout, Pass? pass, string? key, bool keyGone, string linkUrl, string nonce, DateTimeOffset now)
    {
        static string E(string? s) => WebUtility.HtmlEncode(s ?? "");
        var bounds = E(PassText.Bounds(checkout.Offer));
        string body;
        var refresh = "";
        if (pass is null)
        {
            // Stripe sends the buyer back before (or while) its webhook arrives: look again shortly, no script needed.
            refresh = """<meta http-equiv="refresh" content="3">""";
            body = $"""
                <h1 id="status">Waiting for the payment to be confirmed</h1>
                <p>Your pass ({bounds}) is issued as soon as Stripe confirms the payment. This page looks again every few seconds.</p>
                """;
        }
        else
        {
            var expires = pass.ExpiresAt is { } at ? $"<li>Valid until {E(at.ToString("u", CultureInfo.InvariantCulture))}</li>" : "";
            var left = pass.CallsLeft is { } calls ? $"<li>{calls.ToString(CultureInfo.InvariantCulture)} calls left</li>" : "";
            var account = key is not null
                ? $"""
                    <h2>Your payer key</h2>
                    <p><strong>Copy it now: it is shown once.</strong> The pass is bound to the payer account this key opens; keep the key secret.</p>
                    <pre id="payer-key">{E(key)}</pre>
                    <p>Use it with the link:</p>
                    <pre>curl -H "Authorization: Bearer {E(key)}" {E(linkUrl)}</pre>
                    <p>or paste it into the payer-key form on the link's page.</p>
                    """
                : keyGone
                    ? $"""
                        <p id="key-gone">The payer key for this pass was shown already, or this is not the browser that paid. The pass is bound to payer
                        account <code>{E(checkout.PayerId)}</code>; its provider can issue a new key for it.</p>
                        """
                    : $"""
                        <p>The pass is on your payer account: call <code>{E(linkUrl)}</code> with your payer key, as for credits; the pass is used first.</p>
                        """;
            body = $"""
                <h1 id="status">Your pass is ready</h1>
                <ul><li>{bounds}</li>{left}{expires}<li>Status: {E(pass.Status(now))}</li></ul>
                {account}
                """;
        }
        return $"""
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            {refresh}
            <title>Pass bought by card</title>
            <style nonce="{E(nonce)}">
              body {"{"} font-family: system-ui, sans-serif; max-width: 44rem; margin: 3rem auto; padding: 0 1rem; color: #1b1b1f; {"}"}
              pre {"{"} white-space: pre-wrap; word-break: break-all; background: #f5f5f7; padding: .75rem; border-radius: .4rem; {"}"}
            </style>
            </head>
            <body>
            {body}
            </body>
            </html>
            """;
    }
}
