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
    public static async Task<IResult> ShowAsync(string linkId, HttpContext http, IPassStore passes, PublicUrls urls, LinkCache links, TimeProvider time)
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
        var linkUrl = $"{urls.LinkBaseUrl(request)}/l/{Uri.EscapeDataString(linkId)}";
        // An inbox's pass sends messages: once it exists, the page carries the inbox's compose form (key filled in when
        // shown here), which posts to the inbox's URL and nowhere else.
        var compose = pass is not null && await links.GetAsync(linkId, http.RequestAborted) is { Link: { Inbox: not null } inbox }
            ? Inbox.ComposePage.Form(inbox, linkUrl, key)
            : null;
        response.Headers.CacheControl = "no-store";
        response.Headers.ContentSecurityPolicy = $"default-src 'none'; style-src 'nonce-{nonce}'; form-action {(compose is null ? "'none'" : new Uri(linkUrl).GetLeftPart(UriPartial.Authority))}; frame-ancestors 'none'; base-uri 'none'";
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
        return Results.Content(Render(checkout, pass, key, keyGone, linkUrl, compose, nonce, time.GetUtcNow()), "text/html; charset=utf-8");
    }

    private static string Render(PassCheckout checkout, Pass? pass, string? key, bool keyGone, string linkUrl, string? compose, string nonce, DateTimeOffset now)
    {
        static string E(string? s) => WebUtility.HtmlEncode(s ?? "");
        var unit = compose is null ? "calls" : "messages";
        var bounds = E(PassText.Bounds(checkout.Offer, unit));
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
            var left = pass.CallsLeft is { } calls ? $"<li id=\"pass-left\">{calls.ToString(CultureInfo.InvariantCulture)} {unit} left</li>" : "";
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
            var write = compose is null ? "" : $"""
                <h2>Write your message</h2>
                <p>Sent with your pass: one message uses one of its messages, given back if it cannot be delivered.</p>
                {compose}
                """;
            body = $"""
                <h1 id="status">Your pass is ready</h1>
                <ul><li>{bounds}</li>{left}{expires}<li>Status: {E(pass.Status(now))}</li></ul>
                {account}
                {write}
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
              label {"{"} display: block; margin-top: .8rem; font-weight: 600; {"}"}
              input, textarea {"{"} width: 100%; box-sizing: border-box; padding: .4rem; font: inherit; {"}"}
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
