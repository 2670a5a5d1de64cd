using Microsoft.AspNetCore.Http.HttpResults;

namespace X402Serverless.Handler.Problems;

/// <summary>RFC 9457 problem details with a stable machine-readable "code".</summary>
internal static class Problem
{
    /// <summary>A problem for handlers that return IResult.</summary>
    public static IResult Of(int status, string code, string title, string? detail = null, object? errors = null) =>
        Typed(status, code, title, detail, errors);

    /// <summary>The same problem typed, so an endpoint can name it in its Results&lt;…&gt; union beside its successes.</summary>
    public static ProblemHttpResult Typed(int status, string code, string title, string? detail = null, object? errors = null)
    {
        var extensions = new Dictionary<string, object?> { ["code"] = code };
        if (errors is not null)
        {
            extensions["errors"] = errors;
        }
        return TypedResults.Problem(detail, statusCode: status, title: title, extensions: extensions);
    }

    /// <summary>
    /// The one shape of a refused request body: 400, the first problem's code, and every problem as
    /// {field, code, message}, whether it was malformed JSON, an unknown field, a wrong type or a rule.
    /// </summary>
    public static ProblemHttpResult Invalid(string title, IReadOnlyList<Core.Links.ValidationError> errors) =>
        Typed(StatusCodes.Status400BadRequest, errors.Count > 0 ? errors[0].Code : "invalid_request", title,
            string.Join(" ", errors.Select(e => e.Message)),
            errors.Select(e => new { field = e.Field, code = e.Code, message = e.Message }));

    /// <summary>
    /// A link its organisation switched off. 403, not 410: it may come back, and a 410 is cacheable by default, so a
    /// cache could go on answering it after the link is enabled. Not a 402 either: there is nothing to pay for.
    /// </summary>
    public static IResult LinkDisabled() =>
        Of(StatusCodes.Status403Forbidden, "link_disabled", "This link is disabled by its provider.", "Nothing was charged. Try again later or ask its provider.");

    public static ProblemHttpResult NotFound(string what) =>
        Typed(StatusCodes.Status404NotFound, "not_found", $"{what} not found.");
}
