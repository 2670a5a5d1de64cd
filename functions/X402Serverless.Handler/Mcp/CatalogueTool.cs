using System.Text.Json;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using X402Serverless.Handler.Hosting;
using X402Serverless.Handler.Listings;

namespace X402Serverless.Handler.Mcp;

/// <summary>
/// One MCP tool over the listed links, with a hand-written input schema (closed: additionalProperties false) and
/// arguments checked by <see cref="ToolArguments"/>. It runs inside the /mcp HTTP request (stateless transport), whose
/// context gives the public URLs and, for a paid call, the caller's address.
/// </summary>
internal abstract class CatalogueTool : McpServerTool
{
    protected CatalogueTool(string name, string title, string description, string inputSchema, bool readOnly)
    {
        ProtocolTool = new Tool
        {
            Name = name,
            Title = title,
            Description = description,
            InputSchema = JsonDocument.Parse(inputSchema).RootElement.Clone(),
            Annotations = new ToolAnnotations { Title = title, ReadOnlyHint = readOnly, DestructiveHint = false, OpenWorldHint = !readOnly },
        };
    }

    public override Tool ProtocolTool { get; }

    public override IReadOnlyList<object> Metadata => [];

    public override async ValueTask<CallToolResult> InvokeAsync(RequestContext<CallToolRequestParams> request, CancellationToken cancellationToken = default)
    {
        var services = request.Services ?? throw new InvalidOperationException("The MCP request has no services.");
        var http = services.GetRequiredService<IHttpContextAccessor>().HttpContext
            ?? throw new InvalidOperationException("MCP tools run inside the /mcp HTTP request (stateless transport).");
        return await RunAsync(new ToolCall(request.Params, http, http.RequestServices), cancellationToken);
    }

    protected abstract ValueTask<CallToolResult> RunAsync(ToolCall call, CancellationToken cancellationToken);

    /// <summary>What a tool needs of its call: the arguments and _meta, the /mcp request, and the public URLs.</summary>
    protected sealed record ToolCall(CallToolRequestParams Params, HttpContext Http, IServiceProvider Services)
    {
        public ListingCatalogue Catalogue => Services.GetRequiredService<ListingCatalogue>();

        public string LinkBase => Services.GetRequiredService<PublicUrls>().LinkBaseUrl(Http.Request);

        public string BaseUrl => Services.GetRequiredService<PublicUrls>().BaseUrl(Http.Request);
    }
}
