using ModelContextProtocol.Protocol;

namespace X402Serverless.Handler.Mcp;

/// <summary>describe: one listed API, everything its catalogue page /apis/{id} shows.</summary>
internal sealed class DescribeTool() : CatalogueTool("describe", "Describe a paid API",
    "Everything about one listed API: price and price rules, methods, payment types and networks, the x402 payment "
    + "requirements, an example request, input and output JSON Schemas, its provider and its calls over 30 days.",
    """
    {"type":"object","additionalProperties":false,"required":["id"],"properties":{
      "id":{"type":"string","maxLength":64,"description":"The API's id, as search returns it (lnk_…)."}}}
    """, readOnly: true)
{
    private static readonly string[] Known = ["id"];

    protected override async ValueTask<CallToolResult> RunAsync(ToolCall call, CancellationToken cancellationToken)
    {
        var arguments = ToolArguments.Read(call.Params.Arguments, Known);
        var id = arguments.String("id", 64, required: true);
        if (arguments.Errors.Count > 0)
        {
            return ToolResults.Invalid(arguments.Errors);
        }
        var snapshot = await call.Catalogue.GetAsync(cancellationToken);
        return snapshot.ById.TryGetValue(id!, out var entry)
            ? ToolResults.Structured(ListingJson.Detail(entry, call.LinkBase, call.BaseUrl))
            : ToolResults.NotFound(id!);
    }
}
