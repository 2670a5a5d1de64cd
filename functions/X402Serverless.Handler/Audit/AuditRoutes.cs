using Microsoft.AspNetCore.Routing.Patterns;

namespace X402Serverless.Handler.Audit;

/// <summary>
/// An audited action's name and target type, read from the endpoint's route so that every management endpoint,
/// including ones added later, is named without code of its own: POST /api/links → "link.create",
/// PATCH /api/payers/{id} → "payer.update", DELETE /api/payers/{id}/keys/{keyId} → "payer.key.delete",
/// POST /api/links/import → "link.import" (a POST whose path ends in a verb-like segment is that action).
/// </summary>
internal static class AuditRoutes
{
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
        var targetType = string.Join('.', literals);
        var verb = method.ToUpperInvariant() switch
        {
            "POST" when endsInLiteralAfterLiteral => null,
            "POST" => "create",
            "PUT" or "PATCH" => "update",
            "DELETE" => "delete",
            var other => other.ToLowerInvariant(),
        };
        // A parameter before the last literal names the parent (payers/{id}/keys), not the target.
        var targetParameter = previousWasLiteral ? null : lastParameter;
        return (verb is null ? targetType : targetType + "." + verb, targetType, targetParameter);
    }

    private static string Singular(string word) =>
        word.EndsWith('s') && !word.EndsWith("ss", StringComparison.Ordinal) && word.Length > 1 ? word[..^1] : word;
}
