using X402Serverless.Core.Money;
using X402Serverless.Core.Networks;

namespace X402Serverless.Core.Links;

/// <summary>The checks on a link's price rules, each problem with a stable code and the rule's index.</summary>
internal static class PriceRuleChecks
{
    public const int MaxRules = 50;
    private const int MaxPrefixLength = 200;

    public static void Check(IReadOnlyList<PriceRuleDraft> rules, IReadOnlyList<string> networkIds, NetworkRegistry networks, List<ValidationError> errors)
    {
        if (rules.Count > MaxRules)
        {
            errors.Add(new("priceRules", "too_many_price_rules", $"A link has at most {MaxRules} price rules."));
            return;
        }
        var seen = new HashSet<(string?, string?)>();
        for (var i = 0; i < rules.Count; i++)
        {
            var rule = rules[i];
            var field = $"priceRules[{i}]";
            if (rule is null)
            {
                errors.Add(new(field, "invalid_price_rule", $"{field} must be an object with price and a method, a pathPrefix or both."));
                continue;
            }
            if (rule.Method is null && rule.PathPrefix is null)
            {
                errors.Add(new(field, "invalid_price_rule", $"{field} needs a method, a pathPrefix or both; the link's price covers everything else."));
            }
            if (rule.Method is { } method && !LinkValidator.IsKnownMethod(method))
            {
                errors.Add(new(field + ".method", "invalid_method", $"'{method}' is not an HTTP method this gateway forwards."));
            }
            if (rule.PathPrefix is { } prefix && (!prefix.StartsWith('/') || prefix.Length > MaxPrefixLength || prefix.Contains('?') || prefix.Contains('#')
                || prefix.Any(char.IsControl) || prefix.Contains("//", StringComparison.Ordinal)))
            {
                errors.Add(new(field + ".pathPrefix", "invalid_path_prefix",
                    $"{field}.pathPrefix is a path under the link starting with '/', such as \"/v1/forecast\" (no query, at most {MaxPrefixLength} characters)."));
            }
            if (rule.Price is not { } price || !price.IsPositive)
            {
                errors.Add(new(field + ".price", rule.Price is { Error: UsdParseError.TooPrecise } ? "price_too_precise" : "invalid_price",
                    $"{field}.price is a positive USD decimal string such as \"0.05\", at most 6 decimals."));
            }
            else if (LinkValidator.TooCoarseFor(price.Value, networkIds, networks).FirstOrDefault() is { } coarse)
            {
                errors.Add(new(field + ".price", "price_too_precise", $"{field}.price has more decimals than the token on {coarse.Id} can carry."));
            }
            if (!seen.Add((rule.Method?.ToUpperInvariant(), rule.PathPrefix)))
            {
                errors.Add(new(field, "duplicate_price_rule", $"{field} repeats the method and pathPrefix of an earlier rule."));
            }
        }
    }
}
