using X402Serverless.Core.Money;

namespace X402Serverless.Core.Payments;

/// <summary>
/// How many of an organisation's payments a link has on one network in one state, and their sum in the network
/// token's atomic units, exact.
/// </summary>
public sealed record PaymentTotals(string LinkId, string Network, PaymentStatus Status, int Count, TokenAmount Amount)
{
    /// <summary>Groups payment rows by (link, network, status); adapters without server-side exact sums share this.</summary>
    public static IReadOnlyList<PaymentTotals> Aggregate(IEnumerable<(string LinkId, string Network, PaymentStatus Status, TokenAmount Amount)> rows)
    {
        var groups = new Dictionary<(string, string, PaymentStatus), (int Count, TokenAmount Amount)>();
        foreach (var (link, network, status, amount) in rows)
        {
            var key = (link, network, status);
            var (count, sum) = groups.GetValueOrDefault(key);
            groups[key] = (count + 1, sum + amount);
        }
        return groups
            .Select(g => new PaymentTotals(g.Key.Item1, g.Key.Item2, g.Key.Item3, g.Value.Count, g.Value.Amount))
            .OrderBy(t => t.LinkId, StringComparer.Ordinal).ThenBy(t => t.Network, StringComparer.Ordinal).ThenBy(t => t.Status)
            .ToList();
    }
}
