using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using X402Serverless.Core.Json;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Requests;

/// <summary>
/// Every JSON request body is read here: one document, strings checked as Unicode and nesting bounded
/// (<see cref="StrictJson"/>), so endpoints read fields without try/catch and bad input is a 400, never a 500.
/// The body's size is bounded before this by <see cref="RequestBodyLimits"/>.
/// </summary>
internal static class JsonBody
{
    public const string InvalidCode = "invalid_json";

    /// <summary>The body's root element, or null when the body is not well-formed JSON.</summary>
    public static async Task<JsonElement?> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var (ok, root) = await StrictJson.TryParseAsync(request.Body, cancellationToken);
        return ok ? root : null;
    }

    /// <summary>The body's root when it is a JSON object, else null.</summary>
    public static async Task<JsonElement?> ReadObjectAsync(HttpRequest request, CancellationToken cancellationToken) =>
        await ReadAsync(request, cancellationToken) is { ValueKind: JsonValueKind.Object } root ? root : null;

    public static ProblemHttpResult Invalid(string? detail = null) =>
        Problem.Typed(StatusCodes.Status400BadRequest, InvalidCode, "The body must be a well-formed JSON object.",
            detail ?? "Send a JSON object (UTF-8, no unpaired surrogates, at most " + StrictJson.MaxDepth + " levels deep).");
}
