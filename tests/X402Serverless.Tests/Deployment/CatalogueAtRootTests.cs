using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Deployment;

/// <summary>
/// In Azure, / of the app must be the catalogue. The Functions host serves its own page there unless
/// AzureWebJobsDisableHomepage is set, and reaches the handler at / only through a function whose route matches the
/// empty path: an empty route means the function's name, so the Home function uses an optional parameter that only
/// the empty path can satisfy ("{root:maxlength(0)?}"). The host routes with ASP.NET Core's router, so the functions'
/// routes are checked here with that same router.
/// </summary>
public sealed class CatalogueAtRootTests
{
    [Fact]
    public async Task The_app_settings_turn_the_host_homepage_off_and_the_routes_have_no_prefix()
    {
        var template = await BicepTemplate.LoadAsync();
        var settings = template.Resource("Microsoft.Web/sites/config")["properties"]!.AsObject();
        Assert.Equal("true", (string?)settings["AzureWebJobsDisableHomepage"]);
        var host = JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "host.json")))!;
        Assert.Equal("", (string?)host["extensions"]!["http"]!["routePrefix"]);
    }

    [Theory]
    [InlineData("GET", "/", "Home")]
    [InlineData("HEAD", "/", "Home")]
    [InlineData("GET", "/?q=weather&tag=data", "Home")]
    [InlineData("GET", "/reference", "Reference")]
    [InlineData("GET", "/apis/lnk_abc", "Catalogue")]
    [InlineData("GET", "/openapi.json", "OpenApi")]
    [InlineData("GET", "/l/lnk_abc/v1/quote", "PaidLink")]
    [InlineData("POST", "/pass/lnk_abc", "Passes")]
    [InlineData("GET", "/paywall/wallet.js", "Paywall")]
    [InlineData("POST", "/paywall/lnk_abc/v1/quote", "Paywall")]
    [InlineData("GET", "/console/links", "Console")]
    [InlineData("GET", "/not-a-route", null)] // Home matches the empty path only, not as a catch-all
    [InlineData("POST", "/", null)]
    public async Task Each_path_reaches_the_function_whose_route_matches_it_under_aspnet_core_routing(string method, string path, string? function)
    {
        var (app, url) = await LoopbackApp.StartAsync(app =>
        {
            foreach (var (name, route, methods) in HttpFunctions())
            {
                app.MapMethods("/" + route, methods, () => Results.Text(name));
            }
        });
        await using (app)
        {
            using var http = new HttpClient { BaseAddress = new Uri(url) };
            using var response = await http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
            if (function is null)
            {
                Assert.True(response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed, $"{method} {path}: {response.StatusCode}");
            }
            else
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                if (method != "HEAD")
                {
                    Assert.Equal(function, await response.Content.ReadAsStringAsync());
                }
            }
        }
    }

    [Fact]
    public async Task Behind_front_door_a_browser_at_the_root_gets_the_catalogue_and_the_host_still_gets_readiness()
    {
        const string FrontDoorId = "11111111-2222-3333-4444-555555555555";
        await using var gateway = await GatewayHost.StartAsync(GatewayHost.UnderFunctionsHost(new Dictionary<string, string?>
        {
            ["X402:FrontDoorId"] = FrontDoorId,
            ["X402:FacilitatorUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}",
        }));
        using var http = gateway.Client();
        // What the Home function proxies: the browser's request, path and headers as they came through Front Door.
        using var browser = new HttpRequestMessage(HttpMethod.Get, "/");
        browser.Headers.Accept.ParseAdd("text/html,application/xhtml+xml");
        browser.Headers.Add("X-Azure-FDID", FrontDoorId);
        using var page = await http.SendAsync(browser);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.StartsWith("text/html", page.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
        Assert.Contains("<h1>Paid APIs</h1>", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        // The host's own readiness poll of the handler (no Accept: text/html).
        using var probe = await http.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, probe.StatusCode);
        Assert.Equal("ok", JsonDocument.Parse(await probe.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetString());
    }

    private static List<(string Name, string Route, string[] Methods)> HttpFunctions() =>
        Directory.GetDirectories(Path.Combine(RepoPaths.Root, "functions"))
            .Where(d => File.Exists(Path.Combine(d, "function.json")))
            .SelectMany(d => JsonDocument.Parse(File.ReadAllText(Path.Combine(d, "function.json"))).RootElement.GetProperty("bindings").EnumerateArray()
                .Where(b => b.GetProperty("type").GetString() == "httpTrigger")
                .Select(b => (Path.GetFileName(d), b.GetProperty("route").GetString()!,
                    b.GetProperty("methods").EnumerateArray().Select(m => m.GetString()!.ToUpperInvariant()).ToArray())))
            .ToList();
}
