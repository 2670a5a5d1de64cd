using Microsoft.AspNetCore.Routing.Patterns;

namespace X402Serverless.Handler.Audit;

/// <summary>
/// An audited action's name and target type, read from the endpoint's route so that every management endpoint,
/// including ones added later, is named without code of its own: POST /api/links → "link.create",
/// PATCH /api/payers/{id} → "payer.update", DELETE /api/payers/{id}/keys/{keyId} → "payer.key.delete",
/// POST /api/links/import → "link.import" (a POST whose path ends in a verb-like segment is that action),
/// POST /api/links/{id}/passes/{passId}/revoke → "link.pass.revoke" (so is a known verb after an id).
/// </summary>
internal static class AuditRoutes
{
    // Final segments that act on the item before them rather than name a collection to add to.
    private static readonly HashSet<string> Verbs = new(StringComparer.Ordinal) { "revoke", "redeliver", "test", "block", "refund", "rotate" };

    public static (string Action, string TargetType, string? TargetParameter) Describe(RoutePattern? pattern, string method)
    {
        var literals = new List<string>();
        string? lastParameter = null;
        var endsInLiteralAfterLiteral = false;
        var previousWasLiteral = false;
        foreach (var segment in pattern?.PathSegments ?? [])
        {
            if (segment.IsSimple && segment.Parts[0] is RoutePatternLiteralPart literal)
            {
                if (!(literals.Count == 0 && literal.Content == "api" && !previousWasLiteral && lastParameter is null))
                {
                    endsInLiteralAfterLiteral = previousWasLiteral && literals.Count > 0;
                    literals.Add(Singular(literal.Content.ToLowerInvariant()));
                }
                previousWasLiteral = true;
            }
            else
            {
                lastParameter = segment.Parts.OfType<RoutePatternParameterPart>().LastOrDefault()?.Name ?? lastParameter;
                previousWasLiteral = false;
                endsInLiteralAfterLiteral = false;
            }
        }
        if (literals.Count == 0)
        {
            literals.Add("api");
        }
        var endsInVerb = previousWasLiteral && literals.Count > 1 && Verbs.Contains(literals[^1]);
        var targetType = string.Join('.', endsInVerb ? literals[..^1] : literals);
        var verb = method.ToUpperInvariant() switch
        {
            "POST" when endsInVerb => literals[^1],
            "POST" when endsInLiteralAfterLiteral => null,
            "POST" => "create",
            "PUT" or "PATCH" => "update",
            "DELETE" => "delete",
            var other => other.ToLowerInvariant(),
        };
        // A parameter before the last literal names the parent (payers/{id}/keys), not the target.
        var targetParameter = previousWasLiteral && !endsInVerb ? null : lastParameter;
        return (verb is null ? targetType : targetType + "." + verb, targetType, targetParameter);
    }

    private static string Singular(string word) => word switch
    {
        _ when word.EndsWith("ies", StringComparison.Ordinal) && word.Length > 3 => word[..^3] + "y", // deliveries
        _ when word.EndsWith("sses", StringComparison.Ordinal) || word.EndsWith("ches", StringComparison.Ordinal) => word[..^2], // passes
        _ when word.EndsWith('s') && !word.EndsWith("ss", StringComparison.Ordinal) && word.Length > 1 => word[..^1],
        _ => word,
    };
}
