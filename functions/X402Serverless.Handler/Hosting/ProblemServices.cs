namespace X402Serverless.Handler.Hosting;

/// <summary>How errors reach clients: RFC 9457 problems with a stable "code", and request-body errors as the client's fault.</summary>
internal static class ProblemServices
{
    private const string LedgerBusyRetryAfterSeconds = "30";

    public static IServiceCollection AddGatewayProblems(this IServiceCollection services)
    {
        // Every problem carries a stable "code", including those the framework writes itself (binding failures, 404s).
        services.AddProblemDetails(o => o.CustomizeProblemDetails = context =>
        {
            context.ProblemDetails.Extensions.Remove("exception");
            if (context.Exception is AzureStorage.Tables.RowContendedException)
            {
                context.ProblemDetails.Detail = "The ledger could not finish this request now: the same account kept changing under it, "
                    + "or the same entry is still being posted or taken back. Part of it may be done (a ledger entry begun is finished or "
                    + "undone by the gateway within minutes). Check the outcome (a balance, the resource) before sending the request "
                    + "again, no sooner than Retry-After.";
                context.ProblemDetails.Extensions["code"] = "ledger_busy";
                // Seconds: a busy row or a take-back under way ends well within it; an entry left by a stopped run, in minutes.
                context.HttpContext.Response.Headers.RetryAfter = LedgerBusyRetryAfterSeconds;
            }
            context.ProblemDetails.Extensions.TryAdd("code", context.ProblemDetails.Status switch
            {
                400 => "invalid_request",
                401 => "unauthorized",
                403 => "forbidden",
                404 => "not_found",
                405 => "method_not_allowed",
                413 => "payload_too_large",
                415 => "unsupported_media_type",
                _ => "internal_error",
            });
        });
        // A body over its route's limit surfaces as Kestrel's BadHttpRequestException while it is read: that is the
        // client's error (413, or 400 for a malformed body), not a 500, and not worth an error log. A ledger row that
        // kept changing under every write (Table Storage, after the ledger's retries) is a 503 saying what became of it.
        services.Configure<ExceptionHandlerOptions>(o =>
        {
            o.StatusCodeSelector = e => e switch
            {
                BadHttpRequestException bad => bad.StatusCode,
                AzureStorage.Tables.RowContendedException => StatusCodes.Status503ServiceUnavailable,
                _ => StatusCodes.Status500InternalServerError,
            };
            o.SuppressDiagnosticsCallback = c => c.Exception is BadHttpRequestException;
        });
        return services;
    }
}
