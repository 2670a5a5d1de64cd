using X402Serverless.Handler.Payers;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Paywall;

/// <summary>
/// What the paywall page needs besides the paid URL itself: its wallet script, and the target of its credits form,
/// which turns a form post into the paid GET it stands for, paid from the balance of the key typed into the form.
/// </summary>
internal static class PaywallEndpoints
{
    /// <summary>A form carries one key; anything bigger is not this form.</summary>
    private const int MaxFormBytes = 4096;

    public static void MapPaywall(this IEndpointRouteBuilder app)
    {
        app.MapGet(WalletScript.Path, ServeScript);
        app.MapPost("/paywall/{linkId}/{**rest}", PayFromBalanceAsync).DisableAntiforgery();
    }

    /// <summary>The paid URL's path and query under /paywall/ instead of /l/.</summary>
    public static string CreditsFormAction(HttpRequest request)
    {
        // Escaped as it came: the decoded path would let an encoded '?' or '#' in it end the path in the action.
        var path = request.Path.ToUriComponent();
        var under = path.StartsWith("/l/", StringComparison.Ordinal) ? path[3..] : path.TrimStart('/');
        return $"{request.PathBase.ToUriComponent()}/paywall/{under}{request.QueryString}";
    }

    private static IResult ServeScript(HttpContext http)
    {
        var headers = http.Response.Headers;
        // A request for the current version may be kept for good: another script has another URL.
        headers.CacheControl = http.Request.Query["v"] == WalletScript.Version ? "public, max-age=31536000, immutable" : "no-cache";
        headers.XContentTypeOptions = "nosniff";
        return Results.Bytes(WalletScript.Bytes, "text/javascript; charset=utf-8");
    }

    private static async Task<IResult> PayFromBalanceAsync(HttpContext http, string linkId, string? rest, PaidLinkEndpoint endpoint)
    {
        var request = http.Request;
        // The form is the paywall's own: another site cannot make a visitor's browser post it (it would need the key
        // too, but it could still show its own key's purchase inside this origin).
        if (request.Headers["Sec-Fetch-Site"].ToString() is { Length: > 0 } site && site is not ("same-origin" or "none"))
        {
            return Problem.Of(StatusCodes.Status403Forbidden, "cross_site_form", "The paywall's form is accepted from its own page only.",
                "Open the paid link and use the form there.");
        }
        if (!request.HasFormContentType || request.ContentLength is not (>= 0 and <= MaxFormBytes))
        {
            return Problem.Of(StatusCodes.Status400BadRequest, "invalid_paywall_form", "Send the paywall's form: a payer key, url-encoded, with a length.",
                "Open the paid link in a browser and use the form there.");
        }
        var form = await request.ReadFormAsync(http.RequestAborted);
        var key = form["payerKey"].ToString().Trim();
        if (!key.StartsWith(PayerKeys.Prefix, StringComparison.Ordinal) || key.Length > 200)
        {
            return Problem.Of(StatusCodes.Status400BadRequest, "invalid_payer_key", "The payer key is missing or not a payer key.",
                $"Paste a payer key (it starts with {PayerKeys.Prefix}).");
        }

        // The same request the page was opened with, paid from the balance: the paid path does the rest (price rules,
        // caps, KYC, charge only on a good answer). The key goes no further than the authorizer; the forwarder never
        // sends Authorization upstream.
        request.Method = HttpMethods.Get;
        request.Path = new PathString("/l/" + linkId).Add(rest is null ? PathString.Empty : new PathString("/" + rest));
        request.Headers.Authorization = "Bearer " + key;
        // One key per rendering of the page: a second submit (a double click, a reload that posts again) gets the first
        // answer instead of paying again. A form without one (an old page) pays as before.
        request.Headers.Remove(Idempotency.KeyedCalls.Header);
        if (form["idempotencyKey"].ToString() is { Length: > 0 } idempotencyKey)
        {
            request.Headers[Idempotency.KeyedCalls.Header] = idempotencyKey;
        }
        request.Headers.ContentType = default;
        request.Headers.ContentLength = default;
        request.Body = Stream.Null;
        return await endpoint.HandleAsync(http, linkId, rest);
    }
}
