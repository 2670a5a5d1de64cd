using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;
using X402Serverless.Handler.Listings;

namespace X402Serverless.Handler.Mcp;

/// <summary>search: the listed APIs matching words, a tag and a category, as the catalogue page filters them.</summary>
internal sealed class SearchTool() : CatalogueTool("search", "Search paid APIs",
    "Find paid APIs listed on this gateway. Every word of 'query' must appear in the name, description, category, tags or provider; "
    + "'tag' and 'category' narrow further. Returns id, name, description, price (USD per call), methods and payment types; "
    + "use 'describe' for one API's schemas and payment requirements, and 'call' to call it.",
    """
    {"type":"object","additionalProperties":false,"properties":{
      "query":{"type":"string","maxLength":200,"description":"Words to look for, e.g. \"weather forecast\"."},
      "tag":{"type":"string","maxLength":32,"description":"Only APIs with this tag."},
      "category":{"type":"string","maxLength":64,"description":"Only APIs in this category (any case)."},
      "limit":{"type":"integer","minimum":1,"maximum":50,"default":20},
      "offset":{"type":"integer","minimum":0,"default":0}}}
    """, readOnly: true)
{
    public const int MaxLimit = 50;
    private static readonly string[] Known = ["query", "tag", "category", "limit", "offset"];

    protected override async ValueTask<CallToolResult> RunAsync(ToolCall call, CancellationToken cancellationToken)
    {
        var arguments = ToolArguments.Read(call.Params.Arguments, Known);
        var words = arguments.String("query", 200);
        var tag = arguments.String("tag", 32);
        var category = arguments.String("category", 64);
        var limit = arguments.Integer("limit", 20, 1, MaxLimit);
        var offset = arguments.Integer("offset", 0, 0, 1_000_000);
        if (arguments.Errors.Count > 0)
        {
            return ToolResults.Invalid(arguments.Errors);
        }
        var snapshot = await call.Catalogue.GetAsync(cancellationToken);
        var query = new CatalogueQuery(words, tag?.ToLowerInvariant(), category, 1);
        var matching = snapshot.Entries.Where(query.Matches).ToList();
        var (linkBase, baseUrl) = (call.LinkBase, call.BaseUrl);
        return ToolResults.Structured(new JsonObject
        {
            ["total"] = matching.Count,
            ["offset"] = offset,
            ["limit"] = limit,
            ["items"] = new JsonArray(matching.Skip(offset).Take(limit).Select(e => (JsonNode)ListingJson.Summary(e, linkBase, baseUrl)).ToArray()),
        });
    }
}
