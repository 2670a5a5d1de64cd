using X402Serverless.Core.Credits;

namespace X402Serverless.Handler.Functions;

/// <summary>
/// POST /AllowanceReset: the timer function, every hour (0 0 * * * *). Grants the current month, once per member
/// however often it runs: the run at 00:00 UTC on the first grants the month, and a later one a member added since or
/// one a failed run left out. A failure answers 500, after every other member ran, so the host records it.
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
