using System.Text.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Handler.Hosting;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Deployment;

/// <summary>
/// In Azure a request reaches the handler only through a function whose route covers it: every public route the
/// gateway maps must be covered by some function.json, or it silently does not exist once deployed.
/// </summary>
public sealed class FunctionRouteTests
{
    [Fact]
    public async Task Every_public_route_the_gateway_serves_is_routed_to_it_by_a_function()
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?> { ["X402:FacilitatorUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}" });
        var prefixes = FunctionRoutePrefixes();
        var routes = gateway.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Select(e => e.RoutePattern.RawText!.TrimStart('/'))
            .Where(r => r.Length > 0 && !FunctionsHost.InvocationRoutes.Contains("/" + r, StringComparer.OrdinalIgnoreCase))
            // Blazor's own endpoint for script-driven redirects; the console is served without scripts.
            .Where(r => !r.StartsWith("_framework/", StringComparison.Ordinal))
            .Distinct()
            .ToList();

        Assert.NotEmpty(routes);
        // A catch-all matches the empty path too: "console/{*path}" serves "/console".
        var uncovered = routes.Where(r => !prefixes.Any(p => r.StartsWith(p, StringComparison.OrdinalIgnoreCase)
            || string.Equals(r, p.TrimEnd('/'), StringComparison.OrdinalIgnoreCase))).ToList();
        Assert.True(uncovered.Count == 0, "served by the gateway but routed by no function: " + string.Join(", ", uncovered));
    }

    /// <summary>The literal part of each HTTP function's route ("console/{*path}" → "console/").</summary>
    private static List<string> FunctionRoutePrefixes() =>
        Directory.GetFiles(Path.Combine(RepoPaths.Root, "functions"), "function.json", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(f => JsonDocument.Parse(File.ReadAllText(f)).RootElement.GetProperty("bindings").EnumerateArray())
            .Where(b => b.GetProperty("type").GetString() == "httpTrigger")
            .Select(b => b.GetProperty("route").GetString()!)
            .Select(r => r.Contains('{', StringComparison.Ordinal) ? r[..r.IndexOf('{', StringComparison.Ordinal)] : r)
            // Home's route matches the empty path only (CatalogueAtRootTests); as a prefix it would cover everything.
            .Where(p => p.Length > 0)
            .ToList();
}
