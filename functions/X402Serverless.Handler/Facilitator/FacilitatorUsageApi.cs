using Microsoft.AspNetCore.Http.HttpResults;
using X402Serverless.Core.Credits;
using X402Serverless.Handler.Management;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Facilitator;

/// <summary>GET /api/facilitator/usage?days=30 (operator only): settlements and gas the facilitator service spent per key and day.</summary>
internal static class FacilitatorUsageApi
{
    public static void MapFacilitatorUsage(this RouteGroupBuilder api) =>
        api.MapGet("/facilitator/usage", async Task<Results<Ok<FacilitatorUsageView>, ProblemHttpResult>> (HttpContext http, FacilitatorGasMeter meter, TimeProvider time, int? days) =>
        {
            if (!CallerContext.Of(http).Organisation.IsOperator)
            {
                return Problem.Typed(StatusCodes.Status403Forbidden, "forbidden", "Only the operator organisation can read the facilitator's gas.");
            }
            if (days is < 1 or > 366)
            {
                return Problem.Typed(StatusCodes.Status400BadRequest, "invalid_days", "days is between 1 and 366.");
            }
            var from = Periods.Day(time.GetUtcNow().AddDays(1 - (days ?? 30)));
            return TypedResults.Ok(new FacilitatorUsageView(from, await meter.ListAsync(from, http.RequestAborted)));
        });
}

/// <summary>The first day counted and a row per key and day since.</summary>
internal sealed record FacilitatorUsageView(string From, IReadOnlyList<FacilitatorUsageRow> Items);
