using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Listings;

/// <summary>A gateway (no chain behind it) whose public catalogue the marketplace tests read.</summary>
public sealed class MarketplaceFixture : IAsyncLifetime
{
    public const string PayTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";
    public const string PublicBase = "https://pay.example.test";

    internal GatewayHost Gateway { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["X402:FacilitatorUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}",
            ["X402:PublicBaseUrl"] = PublicBase,
        });

    public async Task DisposeAsync() => await Gateway.DisposeAsync();

    internal async Task<(string Key, HttpClient Api)> NewOrganisationAsync(string name)
    {
        using var response = await Gateway.Admin.PostAsJsonAsync("/api/organisations", new { name });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var key = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
        return (key, Gateway.Client(key));
    }

    /// <summary>A page as a browser asks for it.</summary>
    internal async Task<(HttpResponseMessage Response, string Body)> HtmlAsync(string path, string? ifNoneMatch = null)
    {
        using var http = Gateway.Client();
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd("text/html,application/xhtml+xml");
        if (ifNoneMatch is not null)
        {
            request.Headers.IfNoneMatch.Add(EntityTagHeaderValue.Parse(ifNoneMatch));
        }
        var response = await http.SendAsync(request);
        return (response, await response.Content.ReadAsStringAsync());
    }

    internal async Task<JsonElement> JsonAsync(string path)
    {
        using var http = Gateway.Client();
        using var response = await http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>Every discovery item, walking the pages.</summary>
    internal async Task<List<JsonElement>> AllDiscoveryItemsAsync()
    {
        var items = new List<JsonElement>();
        for (var offset = 0; ; offset += 100)
        {
            var page = await JsonAsync($"/discovery/resources?limit=100&offset={offset}");
            items.AddRange(page.GetProperty("items").EnumerateArray());
            if (offset + 100 >= page.GetProperty("pagination").GetProperty("total").GetInt32())
            {
                return items;
            }
        }
    }

    /// <summary>Everything the public can read about listings: the catalogue, discovery, the OpenAPI document and its reference page, as text.</summary>
    internal async Task<string> EverythingPublicAsync(params string[] apiPages)
    {
        var parts = new List<string> { (await HtmlAsync("/")).Body };
        foreach (var page in apiPages)
        {
            parts.Add((await HtmlAsync($"/apis/{page}")).Body);
        }
        parts.AddRange((await AllDiscoveryItemsAsync()).Select(i => i.GetRawText()));
        parts.Add((await JsonAsync("/openapi.json")).GetRawText());
        parts.Add((await HtmlAsync("/reference")).Body);
        return string.Join("\n", parts);
    }
}
