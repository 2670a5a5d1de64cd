namespace X402Serverless.Handler.Problems;

/// <summary>RFC 9457 problem details with a stable machine-readable "code".</summary>
internal static class Problem
{
    public static IResult Of(int status, string code, string title, string? detail = null, object? errors = null)
    {
        var extensions = new Dictionary<string, object?> { ["code"] = code };
        if (errors is not null)
        {
            extensions["errors"] = errors;
        }
        return TypedResults.Problem(detail, statusCode: status, title: title, extensions: extensions);
    }

    public static IResult NotFound(string what) =>
        Of(StatusCodes.Status404NotFound, "not_found", $"{what} not found.");
}
