using X402Serverless.Core.Money;

namespace X402Serverless.Core.Links;

/// <summary>
/// A price for part of a link: requests with <see cref="Method"/> (any, when null) under <see cref="PathPrefix"/>
/// (the whole link, when null) cost <see cref="Price"/> instead of the link's price. A prefix matches whole path
/// segments: "/v1" covers "/v1" and "/v1/x", not "/v10".
/// </summary>
public sealed record PriceRule(string? Method, string? PathPrefix, Usd Price)
{
    public bool Matches(string method, string path) =>
        (Method is null || string.Equals(Method, method, StringComparison.OrdinalIgnoreCase))
        && (PathPrefix is null || PathPrefix == "/" || (path.StartsWith(PathPrefix, StringComparison.Ordinal)
            && (path.Length == PathPrefix.Length || path[PathPrefix.Length] == '/' || PathPrefix.EndsWith('/'))));

    /// <summary>
    /// The most specific matching rule wins, whatever the order they were written in: the longest prefix, then a
    /// rule naming the method over one for any method. Null: the link's own price applies.
    /// </summary>
    public static PriceRule? Match(IReadOnlyList<PriceRule> rules, string method, string path)
    {
        PriceRule? best = null;
        foreach (var rule in rules)
        {
            if (rule.Matches(method, path) && (best is null || rule.Specificity > best.Specificity))
            {
                best = rule;
            }
        }
        return best;
    }

    private int Specificity => ((PathPrefix?.Length ?? 0) * 2) + (Method is null ? 0 : 1);
}
