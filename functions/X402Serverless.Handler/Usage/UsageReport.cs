using System.Globalization;
using X402Serverless.Core.Credits;
using X402Serverless.Core.Links;
using X402Serverless.Core.Money;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Usage;

namespace X402Serverless.Handler.Usage;

/// <summary>
/// The one query layer over the daily usage counters: totals, a zero-filled daily series, per-link figures and the
/// per-payer breakdown for a period, served by GET /api/usage/daily and /api/usage/payers and read by the console's
/// pages. It reads one organisation's counters for the period (a row per link, day and kind), never its payments,
/// so its cost is independent of how many payments were made.
/// </summary>
internal sealed class UsageReports(IUsageStore usage, TimeProvider time)
{
    /// <summary>The periods the console offers.</summary>
    public static readonly IReadOnlyList<int> ConsolePeriods = [7, 30, 90];

    public const int MaxDays = 366;

    /// <summary>The last <paramref name="days"/> UTC days up to today, for one link or all (null).</summary>
    public async Task<UsageReport> ReportAsync(string organisationId, int days, string? linkId, CancellationToken cancellationToken)
    {
        var (from, to, counts) = await CountsAsync(organisationId, days, linkId, cancellationToken);
        return Report(from, to, days, linkId, counts);
    }

    /// <summary>Who paid in the period, most paid first: wallets (self-payments marked) and payer accounts.</summary>
    public async Task<PayerReport> PayersAsync(string organisationId, int days, string? linkId, int limit, CancellationToken cancellationToken)
    {
        var (from, to, counts) = await CountsAsync(organisationId, days, linkId, cancellationToken);
        return Payers(from, to, days, linkId, limit, counts);
    }

    /// <summary>Both, from one read of the counters (a console page shows both).</summary>
    public async Task<(UsageReport Report, PayerReport Payers)> BothAsync(string organisationId, int days, string? linkId, int limit, CancellationToken cancellationToken)
    {
        var (from, to, counts) = await CountsAsync(organisationId, days, linkId, cancellationToken);
        var list = counts.ToList();
        return (Report(from, to, days, linkId, list), Payers(from, to, days, linkId, limit, list));
    }

    private static UsageReport Report(string from, string to, int days, string? linkId, IEnumerable<UsageCount> counts)
    {
        var total = new Tally();
        var byDay = new SortedDictionary<string, Tally>(StringComparer.Ordinal);
        var byLink = new SortedDictionary<string, Tally>(StringComparer.Ordinal);
        foreach (var c in counts)
        {
            total.Add(c);
            Of(byDay, c.Day).Add(c);
            Of(byLink, c.LinkId).Add(c);
        }
        var daily = new List<UsageDay>(days);
        for (var day = DateOnly.ParseExact(from, "yyyy-MM-dd", CultureInfo.InvariantCulture); ; day = day.AddDays(1))
        {
            var key = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            daily.Add(new UsageDay(key, byDay.TryGetValue(key, out var t) ? t.Figures() : UsageFigures.None));
            if (key == to)
            {
                break;
            }
        }
        return new UsageReport(from, to, days, linkId, total.Figures(), daily, byLink.Select(p => new LinkUsage(p.Key, p.Value.Figures())).ToList());
    }

    private static PayerReport Payers(string from, string to, int days, string? linkId, int limit, IEnumerable<UsageCount> counts)
    {
        var payers = new Dictionary<string, (long Calls, long Micros)>(StringComparer.Ordinal);
        foreach (var c in counts)
        {
            if (c.Kind.StartsWith(ChargeKinds.PayerCallsPrefix, StringComparison.Ordinal))
            {
                var key = c.Kind[ChargeKinds.PayerCallsPrefix.Length..];
                var p = payers.GetValueOrDefault(key);
                payers[key] = (p.Calls + c.Count, p.Micros);
            }
            else if (c.Kind.StartsWith(ChargeKinds.PayerUsdPrefix, StringComparison.Ordinal))
            {
                var key = c.Kind[ChargeKinds.PayerUsdPrefix.Length..];
                var p = payers.GetValueOrDefault(key);
                payers[key] = (p.Calls, p.Micros + c.Count);
            }
        }
        var items = payers
            .Select(p => PayerKey.TryParse(p.Key, out var key)
                ? new PayerUsage(key.Id, key.IsWallet ? "wallet" : "payer", key.IsSelfPayment, p.Value.Calls, Usd.FromMicros(p.Value.Micros))
                : null)
            .OfType<PayerUsage>()
            .OrderByDescending(p => p.Paid).ThenByDescending(p => p.Calls).ThenBy(p => p.Payer, StringComparer.Ordinal)
            .ToList();
        return new PayerReport(from, to, days, linkId, items.Count, items.Take(limit).ToList());
    }

    private async Task<(string From, string To, IEnumerable<UsageCount> Counts)> CountsAsync(string organisationId, int days, string? linkId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var from = Periods.Day(now.AddDays(1 - days));
        var to = Periods.Day(now);
        var counts = await usage.ListAsync(organisationId, from, cancellationToken);
        // A counter flushed just after midnight for a day not yet "today" on this clock is left out, not charted past the axis.
        return (from, to, counts.Where(c => string.CompareOrdinal(c.Day, to) <= 0 && (linkId is null || c.LinkId == linkId)));
    }

    private static Tally Of(SortedDictionary<string, Tally> map, string key)
    {
        if (!map.TryGetValue(key, out var tally))
        {
            map[key] = tally = new Tally();
        }
        return tally;
    }

    /// <summary>Counters summed for one day, one link or the whole period.</summary>
    private sealed class Tally
    {
        private readonly long[] _latency = new long[LatencyHistogram.Buckets];
        private readonly Dictionary<string, long> _revenue = new(StringComparer.Ordinal);
        private long _challenged, _paid, _notCharged, _rateLimited, _timeouts, _paidX402;

        public void Add(UsageCount c)
        {
            // Per-payer counters are most of the rows and belong to the payer breakdown only.
            if (c.Kind.StartsWith("payer_", StringComparison.Ordinal))
            {
                return;
            }
            switch (c.Kind)
            {
                case UsageKinds.Challenged: _challenged += c.Count; return;
                case UsageKinds.Paid: _paid += c.Count; return;
                case UsageKinds.NotCharged: _notCharged += c.Count; return;
                case UsageKinds.RateLimited: _rateLimited += c.Count; return;
            }
            if (c.Kind.StartsWith(ChargeKinds.RevenuePrefix, StringComparison.Ordinal))
            {
                var type = c.Kind[ChargeKinds.RevenuePrefix.Length..];
                _revenue[type] = _revenue.GetValueOrDefault(type) + c.Count;
            }
            else if (c.Kind == ChargeKinds.Paid(PaymentTypes.X402))
            {
                _paidX402 += c.Count;
            }
            else if (c.Kind == ChargeKinds.Error(ChargeKinds.Timeout))
            {
                _timeouts += c.Count;
            }
            else if (LatencyHistogram.BucketOf(c.Kind) is var bucket and >= 0)
            {
                _latency[bucket] += c.Count;
            }
        }

        public UsageFigures Figures()
        {
            var latency = LatencyHistogram.Summarise(_latency);
            var revenue = PaymentTypes.All.ToDictionary(t => t, t => Usd.FromMicros(_revenue.GetValueOrDefault(t)), StringComparer.Ordinal);
            return new UsageFigures(
                _challenged + _paid + _notCharged + _rateLimited, _challenged, _paid, _notCharged, _rateLimited, _notCharged, _timeouts,
                Usd.FromMicros(_revenue.Values.Sum()), revenue, _paidX402, Conversion(_paidX402, _challenged),
                latency.Samples, Management.UsageTable.Milliseconds(latency.P50), Management.UsageTable.Milliseconds(latency.P95));
        }

        // Percent with one decimal, from integers (no 402s, no conversion).
        private static decimal? Conversion(long paid, long challenged) =>
            challenged == 0 ? null : Math.Round(100m * paid / challenged, 1);
    }
}

/// <summary>
/// A period's figures. Calls = 402s + paid + not charged + rate limited. Errors are the calls the upstream failed
/// (not charged), timeouts among them. Revenue is what was charged, per payment type. Conversion is the x402-paid
/// calls per 402 answered, in percent (null without 402s). Latency is the upstream's, over the answers it gave.
/// </summary>
public sealed record UsageFigures(
    long Calls, long Challenged, long Paid, long NotCharged, long RateLimited, long Errors, long Timeouts,
    Usd Revenue, IReadOnlyDictionary<string, Usd> RevenueByType, long PaidX402, decimal? ConversionPercent,
    long LatencySamples, double? LatencyP50Ms, double? LatencyP95Ms)
{
    public static readonly UsageFigures None = new(0, 0, 0, 0, 0, 0, 0, Usd.Zero,
        PaymentTypes.All.ToDictionary(t => t, _ => Usd.Zero, StringComparer.Ordinal), 0, null, 0, null, null);
}

public sealed record UsageDay(string Day, UsageFigures Figures);

public sealed record LinkUsage(string LinkId, UsageFigures Figures);

/// <summary>GET /api/usage/daily: the period (first and last UTC day), its totals, every day in it, and each link's figures.</summary>
public sealed record UsageReport(string From, string To, int Days, string? LinkId, UsageFigures Totals, IReadOnlyList<UsageDay> Daily, IReadOnlyList<LinkUsage> Links);

/// <summary>One payer's paid calls and what they paid: a wallet address (self-payment when it paid the link's own payTo) or a payer account id.</summary>
public sealed record PayerUsage(string Payer, string Kind, bool SelfPayment, long Calls, Usd Paid);

/// <summary>GET /api/usage/payers: the period, how many payers paid in it, and the first of them by amount.</summary>
public sealed record PayerReport(string From, string To, int Days, string? LinkId, int Count, IReadOnlyList<PayerUsage> Items);
