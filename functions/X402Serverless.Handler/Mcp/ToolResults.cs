using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;
using X402Serverless.Core.Links;

namespace X402Serverless.Handler.Mcp;

/// <summary>
/// Tool results: structured JSON, repeated as text in content[0] for clients that read only text (as the x402 MCP
/// transport asks for a PaymentRequired). Refusals are tool errors (isError) with the API's problem shape
/// {code, message, errors[{field, code, message}]}, so an agent reads why and can correct its call.
/// </summary>
internal static class ToolResults
{
    public static CallToolResult Structured(JsonNode value, bool isError = false, JsonObject? meta = null)
    {
        var text = value.ToJsonString();
        return new CallToolResult
        {
            Content = [new TextContentBlock { Text = text }],
            StructuredContent = JsonDocument.Parse(text).RootElement.Clone(),
            IsError = isError ? true : null,
            Meta = meta,
        };
    }

    public static CallToolResult Invalid(IReadOnlyList<ValidationError> errors) =>
        Error(errors[0].Code, string.Join(" ", errors.Select(e => e.Message)), errors);

    public static CallToolResult NotFound(string id) =>
        Error("not_found", $"No listed API has the id '{id}'. Use the search tool to find one.");

    public static CallToolResult Error(string code, string message, IReadOnlyList<ValidationError>? errors = null)
    {
        var problem = new JsonObject { ["code"] = code, ["message"] = message };
        if (errors is { Count: > 0 })
        {
            problem["errors"] = new JsonArray(errors.Select(e => (JsonNode)new JsonObject
            {
                ["field"] = e.Field, ["code"] = e.Code, ["message"] = e.Message,
            }).ToArray());
        }
        return Structured(problem, isError: true);
    }
}
