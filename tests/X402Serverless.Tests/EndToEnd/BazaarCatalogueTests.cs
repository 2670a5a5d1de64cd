using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.EndToEnd;

/// <summary>
/// Paid through the official facilitator, a listed link ends up in its Bazaar catalogue (what extractDiscoveryInfo
/// takes from the payment the official client built from the 402, v2 and v1); an unlisted one does not.
/// </summary>
[Collection(ChainGroup.Name)]
public sealed class BazaarCatalogueTests(ChainFixture chain)
{
    private const string InputSchema = """{"type":"object","properties":{"limit":{"type":"integer"}}}""";
    private const string OutputSchema = """{"type":"object","properties":{"path":{"type":"string"}}}""";

    [Fact]
    public async Task A_listed_link_paid_with_the_v2_and_v1_clients_is_catalogued_and_an_unlisted_one_is_not()
    {
        var listed = await CreateAsync(listed: true);
        var unlisted = await CreateAsync(listed: false);

        await PayAsync("pay-v2.mjs", listed.Url + "?limit=2");
        await PayAsync("pay-v1.mjs", listed.Url);
        await PayAsync("pay-v2.mjs", unlisted.Url);
        await PayAsync("pay-v1.mjs", unlisted.Url);

        var catalogue = await CatalogueAsync();
        var entries = catalogue.Where(e => e["resourceUrl"]!.GetValue<string>() == listed.Url).ToList();
        Assert.Equal([1, 2], entries.Select(e => e["x402Version"]!.GetValue<int>()).Order());
        Assert.All(entries, e => Assert.Equal("GET", e["method"]!.GetValue<string>()));
        var v2 = entries.Single(e => e["x402Version"]!.GetValue<int>() == 2);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"limit":2}"""), v2["discoveryInfo"]!["input"]!["queryParams"]));
        var schema = v2["extensions"]!["bazaar"]!["schema"]!["properties"]!;
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(InputSchema), schema["input"]!["properties"]!["queryParams"]));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(OutputSchema), schema["output"]!["properties"]!["example"]));
        var v1 = entries.Single(e => e["x402Version"]!.GetValue<int>() == 1);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(OutputSchema), v1["discoveryInfo"]!["output"]!["example"]));
        Assert.DoesNotContain(catalogue, e => e["resourceUrl"]!.GetValue<string>() == unlisted.Url);
    }

    private async Task<(string Id, string Url)> CreateAsync(bool listed) =>
        await chain.Gateway.CreateLinkAsync(new
        {
            upstream = chain.Upstream.BaseUrl + $"/ok/{Guid.NewGuid():N}",
            price = "0.01",
            payTo = ChainFixture.NewAddress().ToString(),
            name = "Catalogued API",
            methods = new[] { "GET" },
            listed,
            exampleRequest = "GET /items?limit=2",
            inputSchema = JsonNode.Parse(InputSchema),
            outputSchema = JsonNode.Parse(OutputSchema),
        });

    private async Task PayAsync(string script, string url)
    {
        var output = await PeerProcess.RunNodeAsync(
            new Dictionary<string, string>
            {
                ["PAYER_KEY"] = chain.PayerKeyHex,
                ["TOKEN"] = chain.Token.ToString(),
                ["NETWORK"] = ChainFixture.V2Network,
            },
            script, url);
        var result = JsonDocument.Parse(output.Trim().Split('\n').Last()).RootElement;
        Assert.Equal(200, result.GetProperty("status").GetInt32());
    }

    private async Task<List<JsonNode>> CatalogueAsync()
    {
        using var http = new HttpClient();
        return (await http.GetFromJsonAsync<JsonArray>($"{chain.FacilitatorUrl}/discovered"))!.Select(e => e!).ToList();
    }
}
