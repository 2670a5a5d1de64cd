using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Mcp;

/// <summary>The official MCP C# client connected over Streamable HTTP to a running gateway's /mcp.</summary>
internal sealed class McpClientSession : IAsyncDisposable
{
    private McpClientSession(McpClient client) => Client = client;

    public McpClient Client { get; }

    public static async Task<McpClientSession> ConnectAsync(GatewayHost gateway)
    {
        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(gateway.BaseUrl + "/mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
        });
        return new McpClientSession(await McpClient.CreateAsync(transport));
    }

    public async Task<CallToolResult> CallAsync(string tool, object arguments, JsonObject? meta = null) =>
        await Client.CallToolAsync(new CallToolRequestParams
        {
            Name = tool,
            Arguments = JsonSerializer.SerializeToElement(arguments).EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone()),
            Meta = meta,
        });

    public ValueTask DisposeAsync() => Client.DisposeAsync();
}

/// <summary>Reading tool results as the x402 MCP transport shapes them.</summary>
internal static class ToolResult
{
    public static JsonElement Structured(CallToolResult result) => Assert.IsType<JsonElement>(result.StructuredContent);

    /// <summary>content[0].text, which must be the same JSON as structuredContent.</summary>
    public static JsonElement Text(CallToolResult result)
    {
        var text = Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;
        var parsed = JsonDocument.Parse(text).RootElement.Clone();
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(parsed.GetRawText()), JsonNode.Parse(Structured(result).GetRawText())), "content[0].text differs from structuredContent");
        return parsed;
    }

    public static string ErrorCode(CallToolResult result)
    {
        Assert.True(result.IsError, "expected an error result: " + Structured(result).GetRawText());
        return Structured(result).GetProperty("code").GetString()!;
    }

    public static JsonElement Success(CallToolResult result)
    {
        Assert.True(result.IsError is null or false, "expected a result: " + Text(result).GetRawText());
        return Text(result);
    }
}
