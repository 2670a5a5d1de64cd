using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Listings;

/// <summary>
/// A listed link's 402 carries `extensions.bazaar`, read by @x402/extensions' own extractDiscoveryInfo (the function a
/// Bazaar facilitator runs on the payload the official client builds from that 402); an unlisted link's carries none.
/// </summary>
public sealed class BazaarExtensionTests(MarketplaceFixture fixture) : IClassFixture<MarketplaceFixture>
{
    private const string InputSchema = """{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"}},"required":["city"]}""";
    private const string OutputSchema = """{"type":"object","properties":{"temperature":{"type":"number"}}}""";

    private GatewayHost Gateway => fixture.Gateway;

    private static object Link(string[] methods, string example, bool listed = true) => new
    {
        upstream = "http://127.0.0.1:9/forecast",
        price = "0.05",
        payTo = MarketplaceFixture.PayTo,
        name = "Bazaar Forecast",
        description = "Forecasts for any city",
        methods,
        listed,
        tags = new[] { "weather" },
        exampleRequest = example,
        inputSchema = JsonNode.Parse(InputSchema),
        outputSchema = JsonNode.Parse(OutputSchema),
    };

    [Fact]
    public async Task A_listed_GET_links_402_declares_its_query_and_schemas_as_extractDiscoveryInfo_reads_them()
    {
        var (id, url) = await Gateway.CreateLinkAsync(Link(["GET"], "GET /today?city=Oslo&days=3"));

        var read = await ReadAsync(id, "GET");

        Assert.True(read.GetProperty("validation").GetProperty("valid").GetBoolean(), read.ToString());
        var v2 = read.GetProperty("v2");
        Assert.Equal("GET", v2.GetProperty("method").GetString());
        Assert.Equal(url, v2.GetProperty("resourceUrl").GetString());
        // The service metadata on `resource` passes the facilitator's sanitising as it is.
        Assert.Equal("Bazaar Forecast", v2.GetProperty("serviceName").GetString());
        Assert.Equal(["weather"], v2.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        var input = v2.GetProperty("discoveryInfo").GetProperty("input");
        Assert.Equal("http", input.GetProperty("type").GetString());
        // The example's query, typed as the schema says (days is an integer).
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"city":"Oslo","days":3}"""), Node(input.GetProperty("queryParams"))));
        var schema = read.GetProperty("extension").GetProperty("schema").GetProperty("properties");
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(InputSchema), Node(schema.GetProperty("input").GetProperty("properties").GetProperty("queryParams"))));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(OutputSchema), Node(schema.GetProperty("output").GetProperty("properties").GetProperty("example"))));
        // v1 clients' entry (outputSchema) is read too, with the input fields and output schema of the listing.
        var v1 = read.GetProperty("v1").GetProperty("discoveryInfo");
        Assert.Equal("GET", v1.GetProperty("input").GetProperty("method").GetString());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(InputSchema)!["properties"], Node(v1.GetProperty("input").GetProperty("queryParams"))));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(OutputSchema), Node(v1.GetProperty("output").GetProperty("example"))));
    }

    [Fact]
    public async Task A_listed_POST_links_402_declares_a_json_body()
    {
        var (id, _) = await Gateway.CreateLinkAsync(Link(["POST"], """POST /today {"city":"Oslo","days":2}"""));

        var read = await ReadAsync(id, "POST");

        Assert.True(read.GetProperty("validation").GetProperty("valid").GetBoolean(), read.ToString());
        var v2 = read.GetProperty("v2");
        Assert.Equal("POST", v2.GetProperty("method").GetString());
        var input = v2.GetProperty("discoveryInfo").GetProperty("input");
        Assert.Equal("json", input.GetProperty("bodyType").GetString());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"city":"Oslo","days":2}"""), Node(input.GetProperty("body"))));
        var schema = read.GetProperty("extension").GetProperty("schema").GetProperty("properties");
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(InputSchema), Node(schema.GetProperty("input").GetProperty("properties").GetProperty("body"))));
        Assert.Equal("POST", read.GetProperty("v1").GetProperty("discoveryInfo").GetProperty("input").GetProperty("method").GetString());
    }

    [Fact]
    public async Task An_unlisted_links_402_declares_no_discovery_in_v2_or_v1()
    {
        var (id, _) = await Gateway.CreateLinkAsync(Link(["GET"], "GET /today?city=Oslo", listed: false));

        var read = await ReadAsync(id, "GET");

        Assert.Equal(JsonValueKind.Null, read.GetProperty("extension").ValueKind);
        Assert.Equal(JsonValueKind.Null, read.GetProperty("v2").ValueKind);
        Assert.Equal(JsonValueKind.Null, read.GetProperty("v1").ValueKind);
    }

    [Fact]
    public async Task Cached_challenges_keep_each_methods_declaration_and_unlisting_removes_it()
    {
        var (id, _) = await Gateway.CreateLinkAsync(Link(["GET", "POST"], """GET /today?city=Oslo {"city":"Oslo"}"""));
        // Alternated and repeated, so answers after the first come from the link's rendered challenges.
        for (var round = 0; round < 3; round++)
        {
            Assert.Equal("GET", (await BazaarAsync(id, HttpMethod.Get))!["info"]!["input"]!["method"]!.GetValue<string>());
            var post = (await BazaarAsync(id, HttpMethod.Post))!["info"]!["input"]!;
            Assert.Equal("POST", post["method"]!.GetValue<string>());
            Assert.Equal("json", post["bodyType"]!.GetValue<string>());
        }
        // Another link's challenge never answers for this one.
        var (other, _) = await Gateway.CreateLinkAsync(Link(["GET"], "GET /today?city=Bergen"));
        Assert.Equal("Bergen", (await BazaarAsync(other, HttpMethod.Get))!["info"]!["input"]!["queryParams"]!["city"]!.GetValue<string>());
        Assert.Equal("Oslo", (await BazaarAsync(id, HttpMethod.Get))!["info"]!["input"]!["queryParams"]!["city"]!.GetValue<string>());

        using (var unlist = await Gateway.Admin.PatchAsJsonAsync($"/api/links/{id}", new { listed = false }))
        {
            Assert.Equal(HttpStatusCode.OK, unlist.StatusCode);
        }
        Assert.Null(await BazaarAsync(id, HttpMethod.Get));
    }

    [Fact]
    public async Task A_discovery_item_carries_the_same_extension_as_the_402()
    {
        var (id, url) = await Gateway.CreateLinkAsync(Link(["GET"], "GET /today?city=Oslo"));

        var item = Assert.Single(await fixture.AllDiscoveryItemsAsync(), i => i.GetProperty("resource").GetString() == url);

        Assert.True(JsonNode.DeepEquals(await BazaarAsync(id, HttpMethod.Get), Node(item.GetProperty("extensions").GetProperty("bazaar"))));
    }

    private async Task<JsonElement> ReadAsync(string id, string method)
    {
        var output = await PeerProcess.RunNodeAsync(null, "bazaar-402.mjs", $"{Gateway.BaseUrl}/l/{id}", method);
        return JsonDocument.Parse(output).RootElement.Clone();
    }

    /// <summary>The bazaar extension of the link's v2 402 (PAYMENT-REQUIRED header), or null.</summary>
    private async Task<JsonNode?> BazaarAsync(string id, HttpMethod method)
    {
        using var http = Gateway.Client();
        using var response = await http.SendAsync(new HttpRequestMessage(method, $"/l/{id}"));
        Assert.Equal(HttpStatusCode.PaymentRequired, response.StatusCode);
        var required = JsonNode.Parse(Convert.FromBase64String(response.Headers.GetValues("PAYMENT-REQUIRED").Single()))!;
        return required["extensions"]?["bazaar"];
    }

    private static JsonNode? Node(JsonElement element) => JsonNode.Parse(element.GetRawText());
}
