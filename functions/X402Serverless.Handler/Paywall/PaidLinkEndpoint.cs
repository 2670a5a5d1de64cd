using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Paywall;

/// <summary>
/// The paid URL /l/{id}/{**rest}: resolve the link → its method rule → authorize a charge (KYC and caps included)
/// → forward → capture or release → respond. The payer pays nothing unless the upstream's answer is charged by the
/// link's policy; x402 content is held back until settled (the x402 default) unless the link defers settlement.
/// </summary>
internal sealed class PaidLinkEndpoint(LinkCache links, PaidCallAuthorizer authorizer, PaidCallPipeline pipeline, RateLimits.RateLimitGate limits,
    Idempotency.IdentifiedCalls identified, Idempotency.KeyedCalls keyed, Inbox.InboxEndpoint inbox)
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.Map("/l/{linkId}/{**rest}", (string linkId, string? rest, HttpContext http, PaidLinkEndpoint endpoint) => endpoint.HandleAsync(http, linkId, rest));
    }

    public async Task<IResult> HandleAsync(HttpContext http, string linkId, string? rest)
    {
        var cached = await links.GetAsync(linkId, http.RequestAborted);
        if (cached is null)
        {
            return Problem.NotFound("Paid link");
        }
        var request = http.Request;
        if (HttpMethods.IsOptions(request.Method) && request.Headers.ContainsKey("Access-Control-Request-Method"))
        {
            return Preflight(http);
        }
        // A browser's preflight still passes, so its script can read why. Before the payment is read, a limit counted or an identifier recorded: a disabled link takes nothing.
        if (cached.Link.Disabled)
        {
            return Problem.LinkDisabled();
        }
        if (cached.Link.Inbox is not null)
        {
            // A paid inbox: the same limits, authorizer and charge, but the paid request is a message stored, not a call forwarded.
            return limits.Admit(http, cached) ?? await inbox.HandleAsync(http, cached, rest);
        }
        if (!cached.Link.AllowsMethod(request.Method))
        {
            http.Response.Headers.Allow = string.Join(", ", cached.Link.Methods);
            return Problem.Of(StatusCodes.Status405MethodNotAllowed, "method_not_allowed", $"This link does not accept {request.Method}.");
        }
        if (cached.For(request.Method, rest) is not { } priced)
        {
            return Problem.Of(StatusCodes.Status400BadRequest, "invalid_path", "The path leaves this link's upstream; nothing was charged.",
                "Remove '.' and '..' segments from the path after the link id.");
        }
        cached = priced;
        if (limits.Admit(http, cached) is { } limited)
        {
            return limited;
        }
        // A payment carrying an x402 payment identifier runs the same steps, its answer recorded for its retries.
        if (await identified.TryHandleAsync(http, cached, rest) is { } identifiedAnswer)
        {
            return identifiedAnswer;
        }
        // So does a payer-key call carrying an Idempotency-Key.
        if (await keyed.TryHandleAsync(http, cached, rest) is { } keyedAnswer)
        {
            return keyedAnswer;
        }
        var authorization = await authorizer.AuthorizeAsync(http, cached);
        return authorization.Charge is { } charge
            ? await pipeline.RunAsync(http, cached, rest, charge)
            : authorization.Refusal!;
    }

    private static IResult Preflight(HttpContext http)
    {
        var headers = http.Response.Headers;
        headers.AccessControlAllowOrigin = "*";
        headers.AccessControlAllowMethods = http.Request.Headers.AccessControlRequestMethod.ToString();
        headers.AccessControlAllowHeaders = http.Request.Headers.AccessControlRequestHeaders.ToString();
        headers.AccessControlExposeHeaders = PaymentHeaders.Exposed;
        headers.AccessControlMaxAge = "600";
        return Results.NoContent();
    }
}
