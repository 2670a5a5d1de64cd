using X402Serverless.Handler.Mcp;

namespace X402Serverless.Handler.Hosting;

/// <summary>
/// The MCP endpoint /mcp (ModelContextProtocol.AspNetCore, Streamable HTTP, stateless: every POST stands alone, so
/// any instance of the serverless host can answer it): the listed links as tools an agent searches, reads and calls.
/// </summary>
internal static class McpServices
{
    public const string Path = "/mcp";

    public static IServiceCollection AddMcpEndpoint(this IServiceCollection services)
    {
        // Tools run inside the /mcp request: they read its host and caller address through the accessor.
        services.AddHttpContextAccessor();
        services.AddSingleton<PaidLinkInvoker>();
        // The SDK logs whole JSON-RPC messages at Trace, and a message may carry a payment not yet used: never below Information.
        services.Configure<LoggerFilterOptions>(filters => filters.AddFilter("ModelContextProtocol", LogLevel.Information));
        services.AddMcpServer(options =>
            {
                options.ServerInfo = new ModelContextProtocol.Protocol.Implementation { Name = "X402Serverless", Version = "1.0.0" };
                options.ServerInstructions =
                    "Paid APIs listed on this x402 gateway. 'search' finds them, 'describe' shows one (price, schemas, payment "
                    + "requirements), 'call' calls one: unpaid it answers with the x402 PaymentRequired; pay by calling again "
                    + "with an x402 PaymentPayload in _meta[\"x402/payment\"].";
            })
            .WithHttpTransport(transport => transport.Stateless = true)
            .WithTools([new SearchTool(), new DescribeTool(), new CallTool()]);
        return services;
    }

    public static void MapMcpEndpoint(this WebApplication app) => app.MapMcp(Path);
}
