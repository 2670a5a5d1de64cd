using System.Globalization;
using X402Serverless.Core.Credits;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Usage;

namespace X402Serverless.Handler.Management;

/// <summary>
/// GET /api/usage.csv and the console's download: a row per link and UTC day from the usage counters (bounded by
/// the days asked for and the organisation's links), with the link's name.
/// </summary>
internal static class UsageCsv
{
    public const int MaxDays = 366;

    public const string Header = "day,link_id,link_name,challenged,paid,not_charged,rate_limited,latency_p50_ms,latency_p95_ms\r\n";

    /// <summary>The first day counted and the counters since, or null when <paramref name="days"/> is out of range.</summary>
    public static async Task<(string From, IReadOnlyList<UsageCount> Counts)?> CountsAsync(IUsageStore usage, TimeProvider time, string organisationId,
        int? days, CancellationToken cancellationToken)
    {
        if (days is < 1 or > MaxDays)
        {
            return null;
        }
        var from = Periods.Day(time.GetUtcNow().AddDays(1 - (days ?? 30)));
        return (from, await usage.ListAsync(organisationId, from, cancellationToken));
    }

    public static async Task WriteAsync(TextWriter writer, IReadOnlyList<UsageCount> counts, ILinkStore links, string organisationId,
        CancellationToken cancellationToken)
    {
        var names = (await links.ListAsync(organisationId, cancellationToken)).ToDictionary(l => l.Id, l => l.Name ?? "");
        await writer.WriteAsync(Header);
        foreach (var r in UsageTable.Rows(counts))
        {
            await writer.WriteAsync(string.Create(CultureInfo.InvariantCulture,
                $"{r.Day},{CsvCells.Cell(r.LinkId)},{CsvCells.Cell(names.GetValueOrDefault(r.LinkId, ""))},{r.Challenged},{r.Paid},{r.NotCharged},{r.RateLimited},{r.LatencyP50Ms},{r.LatencyP95Ms}\r\n"));
        }
    }
}
