using X402Serverless.Core.Credits;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Usage;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Management;

/// <summary>GET /api/usage?days=30: per link and UTC day, how many calls were answered 402, paid, or not charged.</summary>
internal static class UsageApi
{
    public static void MapUsageApi(this RouteGroupBuilder api) => api.MapGet("/usage", async (HttpContext http, IUsageStore usage, TimeProvider time, int? days) =>
    {
        if (days is < 1 or > 366)
        {
            return Problem.Of(StatusCodes.Status400BadRequest, "invalid_days", "days is between 1 and 366.");
        }
        var from = Periods.Day(time.GetUtcNow().AddDays(1 - (days ?? 30)));
        var counts = await usage.ListAsync(CallerContext.Of(http).Organisation.Id, from, http.RequestAborted);
        return TypedResults.Ok(new { from, items = UsageTable.Rows(counts) });
    });
}

/// <summary>Counters folded into one row per link and day.</summary>
internal static class UsageTable
{
    public static IReadOnlyList<UsageRow> Rows(IEnumerable<UsageCount> counts) =>
        counts.GroupBy(c => (c.LinkId, c.Day)).OrderBy(g => g.Key.Day, StringComparer.Ordinal).ThenBy(g => g.Key.LinkId, StringComparer.Ordinal)
            .Select(g => new UsageRow(g.Key.LinkId, g.Key.Day, Of(g, UsageKinds.Challenged), Of(g, UsageKinds.Paid), Of(g, UsageKinds.NotCharged)))
            .ToList();

    private static long Of(IEnumerable<UsageCount> counts, string kind) => counts.Where(c => c.Kind == kind).Sum(c => c.Count);
}

internal sealed record UsageRow(string LinkId, string Day, long Challenged, long Paid, long NotCharged);
