using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using X402Serverless.Core.Credits;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Usage;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Management;

/// <summary>
/// GET /api/usage?days=30: per link and UTC day, how many calls were answered 402, paid, not charged, or refused by a rate limit (429); the same as
/// CSV at /api/usage.csv (with the link's name) for spreadsheets.
/// </summary>
internal static class UsageApi
{
    public static void MapUsageApi(this RouteGroupBuilder api)
    {
        api.MapGet("/usage", async Task<Results<Ok<UsageView>, ProblemHttpResult>> (HttpContext http, IUsageStore usage, TimeProvider time, int? days) =>
        {
            if (await RowsAsync(http, usage, time, days) is not ({ } from, { } rows))
            {
                return InvalidDays();
            }
            return TypedResults.Ok(new UsageView(from, rows));
        });
        api.MapGet("/usage.csv", async Task<Results<ContentHttpResult, ProblemHttpResult>> (HttpContext http, IUsageStore usage, ILinkStore links, TimeProvider time, int? days) =>
        {
            if (await RowsAsync(http, usage, time, days) is not (_, { } rows))
            {
                return InvalidDays();
            }
            var names = (await links.ListAsync(CallerContext.Of(http).Organisation.Id, http.RequestAborted)).ToDictionary(l => l.Id, l => l.Name ?? "");
            var csv = new System.Text.StringBuilder("day,link_id,link_name,challenged,paid,not_charged,rate_limited\r\n");
            foreach (var r in rows)
            {
                csv.Append(CultureInfo.InvariantCulture, $"{r.Day},{r.LinkId},{Csv(names.GetValueOrDefault(r.LinkId, ""))},{r.Challenged},{r.Paid},{r.NotCharged},{r.RateLimited}\r\n");
            }
            return TypedResults.Text(csv.ToString(), "text/csv; charset=utf-8");
        });
    }

    private static async Task<(string From, IReadOnlyList<UsageRow> Rows)?> RowsAsync(HttpContext http, IUsageStore usage, TimeProvider time, int? days)
    {
        if (days is < 1 or > 366)
        {
            return null;
        }
        var from = Periods.Day(time.GetUtcNow().AddDays(1 - (days ?? 30)));
        return (from, UsageTable.Rows(await usage.ListAsync(CallerContext.Of(http).Organisation.Id, from, http.RequestAborted)));
    }

    private static ProblemHttpResult InvalidDays() => Problem.Typed(StatusCodes.Status400BadRequest, "invalid_days", "days is between 1 and 366.");

    // RFC 4180 quoting; a leading formula character is defused so a spreadsheet shows a name, not a formula.
    private static string Csv(string value)
    {
        if (value.Length > 0 && "=+-@".Contains(value[0], StringComparison.Ordinal))
        {
            value = "'" + value;
        }
        return value.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }
}

/// <summary>Counters folded into one row per link and day.</summary>
internal static class UsageTable
{
    public static IReadOnlyList<UsageRow> Rows(IEnumerable<UsageCount> counts) =>
        counts.GroupBy(c => (c.LinkId, c.Day)).OrderBy(g => g.Key.Day, StringComparer.Ordinal).ThenBy(g => g.Key.LinkId, StringComparer.Ordinal)
            .Select(g => new UsageRow(g.Key.LinkId, g.Key.Day, Of(g, UsageKinds.Challenged), Of(g, UsageKinds.Paid), Of(g, UsageKinds.NotCharged), Of(g, UsageKinds.RateLimited)))
            .ToList();

    private static long Of(IEnumerable<UsageCount> counts, string kind) => counts.Where(c => c.Kind == kind).Sum(c => c.Count);
}

/// <summary>GET /api/usage: the first day counted and a row per link and day since.</summary>
internal sealed record UsageView(string From, IReadOnlyList<UsageRow> Items);

internal sealed record UsageRow(string LinkId, string Day, long Challenged, long Paid, long NotCharged, long RateLimited);
