using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using X402Serverless.Core.Credits;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Usage;
using X402Serverless.Handler.Problems;
using X402Serverless.Handler.Usage;

namespace X402Serverless.Handler.Management;

/// <summary>
/// GET /api/usage?days=30: per link and UTC day, how many calls were answered 402, paid, not charged, or refused by a
/// rate limit (429), and the upstream's median and 95th-percentile latency; per link, its latency over the whole period;
/// the rows as CSV at /api/usage.csv (with the link's name) for spreadsheets. GET /api/usage/daily and
/// /api/usage/payers serve the console's figures (totals, a zero-filled daily series, revenue per payment type,
/// per-payer breakdown) from the same counters, through the same <see cref="UsageReports"/> the console reads.
/// </summary>
internal static class UsageApi
{
    public static void MapUsageApi(this RouteGroupBuilder api)
    {
        api.MapGet("/usage", async Task<Results<Ok<UsageView>, ProblemHttpResult>> (HttpContext http, IUsageStore usage, TimeProvider time, int? days) =>
        {
            if (await CountsAsync(http, usage, time, days) is not ({ } from, { } counts))
            {
                return InvalidDays();
            }
            return TypedResults.Ok(new UsageView(from, UsageTable.Rows(counts), UsageTable.Latency(counts)));
        });
        api.MapGet("/usage/daily", async Task<Results<Ok<UsageReport>, ProblemHttpResult>> (HttpContext http, UsageReports reports, LinkServices links, int? days, string? link) =>
        {
            if (await PeriodAsync(http, links, days, link) is { } problem)
            {
                return problem;
            }
            return TypedResults.Ok(await reports.ReportAsync(CallerContext.Of(http).Organisation.Id, days ?? 30, link, http.RequestAborted));
        });
        api.MapGet("/usage/payers", async Task<Results<Ok<PayerReport>, ProblemHttpResult>> (HttpContext http, UsageReports reports, LinkServices links, int? days, string? link, int? limit) =>
        {
            if (await PeriodAsync(http, links, days, link) is { } problem)
            {
                return problem;
            }
            if (limit is < 1 or > MaxPayers)
            {
                return Problem.Typed(StatusCodes.Status400BadRequest, "invalid_limit", $"limit is between 1 and {MaxPayers}.");
            }
            return TypedResults.Ok(await reports.PayersAsync(CallerContext.Of(http).Organisation.Id, days ?? 30, link, limit ?? 100, http.RequestAborted));
        });
        api.MapGet("/usage.csv", async Task<IResult> (HttpContext http, IUsageStore usage, ILinkStore links, TimeProvider time, int? days) =>
        {
            var organisation = CallerContext.Of(http).Organisation.Id;
            if (await UsageCsv.CountsAsync(usage, time, organisation, days, http.RequestAborted) is not (_, { } counts))
            {
                return InvalidDays();
            }
            return CsvCells.Download("usage.csv", (w, ct) => UsageCsv.WriteAsync(w, counts, links, organisation, ct), http.RequestAborted);
        });
    }

    private static Task<(string From, IReadOnlyList<UsageCount> Counts)?> CountsAsync(HttpContext http, IUsageStore usage, TimeProvider time, int? days) =>
        UsageCsv.CountsAsync(usage, time, CallerContext.Of(http).Organisation.Id, days, http.RequestAborted);

    private const int MaxPayers = 1000;

    // The days asked for, and the link when one is named: another organisation's link is reported as missing.
    private static async Task<ProblemHttpResult?> PeriodAsync(HttpContext http, LinkServices links, int? days, string? link)
    {
        if (days is < 1 or > UsageReports.MaxDays)
        {
            return InvalidDays();
        }
        if (link is not null && (link.Length > 100 || await links.FindOwnLinkAsync(CallerContext.Of(http).Organisation.Id, link, http.RequestAborted) is null))
        {
            return Problem.NotFound("Link");
        }
        return null;
    }

    private static ProblemHttpResult InvalidDays() => Problem.Typed(StatusCodes.Status400BadRequest, "invalid_days", "days is between 1 and 366.");
}

/// <summary>Counters folded into one row per link and day.</summary>
internal static class UsageTable
{
    public static IReadOnlyList<UsageRow> Rows(IEnumerable<UsageCount> counts) =>
        counts.GroupBy(c => (c.LinkId, c.Day)).OrderBy(g => g.Key.Day, StringComparer.Ordinal).ThenBy(g => g.Key.LinkId, StringComparer.Ordinal)
            .Select(g =>
            {
                var latency = LatencyHistogram.Summarise(g);
                return new UsageRow(g.Key.LinkId, g.Key.Day, Of(g, UsageKinds.Challenged), Of(g, UsageKinds.Paid), Of(g, UsageKinds.NotCharged),
                    Of(g, UsageKinds.RateLimited), Milliseconds(latency.P50), Milliseconds(latency.P95), Of(g, UsageKinds.Pass), Of(g, UsageKinds.PassSold));
            })
            .ToList();

    /// <summary>Each link's latency over every day counted.</summary>
    public static IReadOnlyList<LinkLatency> Latency(IEnumerable<UsageCount> counts) =>
        counts.Where(c => LatencyHistogram.BucketOf(c.Kind) >= 0).GroupBy(c => c.LinkId).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g =>
            {
                var latency = LatencyHistogram.Summarise(g);
                return new LinkLatency(g.Key, latency.Samples, Milliseconds(latency.P50), Milliseconds(latency.P95));
            })
            .ToList();

    // Tenths of a millisecond are as fine as the buckets allow (about 41% wide).
    public static double? Milliseconds(TimeSpan? latency) => latency is { } l ? Math.Round(l.TotalMilliseconds, 1) : null;

    private static long Of(IEnumerable<UsageCount> counts, string kind) => counts.Where(c => c.Kind == kind).Sum(c => c.Count);
}

/// <summary>GET /api/usage: the first day counted and a row per link and day since.</summary>
internal sealed record UsageView(string From, IReadOnlyList<UsageRow> Items, IReadOnlyList<LinkLatency> Latency);

/// <summary>
/// One link on one day. Latency is the time to the upstream's response headers on paid calls it answered, estimated
/// from the usage counters' histogram (null when none).
/// </summary>
internal sealed record UsageRow(string LinkId, string Day, long Challenged, long Paid, long NotCharged, long RateLimited, double? LatencyP50Ms = null, double? LatencyP95Ms = null,
    long PassCalls = 0, long PassesSold = 0);

/// <summary>A link's upstream latency over the whole period: how many answers it rests on, median and 95th percentile.</summary>
internal sealed record LinkLatency(string LinkId, long Samples, double? P50Ms, double? P95Ms);
