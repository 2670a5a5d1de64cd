using X402Serverless.Core.Credits;

namespace X402Serverless.Handler.Functions;

/// <summary>
/// POST /AllowanceReset: the timer function (0 0 0 1 * *). Grants the current month, idempotently, so a past-due or
/// repeated invocation grants once; a failure answers 500 so the host records it and the next run retries.
/// </summary>
internal static class AllowanceResetFunction
{
    public static void Map(IEndpointRouteBuilder app) => app.MapPost("/AllowanceReset", async (HttpContext http, AllowanceReset reset, TimeProvider time) =>
    {
        var period = Periods.Month(time.GetUtcNow());
        var granted = await reset.RunAsync(period, http.RequestAborted);
        return Results.Json(new Dictionary<string, object?>
        {
            ["Outputs"] = new Dictionary<string, object?>(),
            ["Logs"] = new[] { $"Allowance reset for {period}: {granted} grants." },
            ["ReturnValue"] = null,
        });
    });
}
