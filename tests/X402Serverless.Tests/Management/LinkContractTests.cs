using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Management;

/// <summary>The links body is a closed contract: what is not in it is refused by name, never silently dropped.</summary>
public sealed class LinkContractTests(ManagementFixture fixture) : IClassFixture<ManagementFixture>
{
    private const string PayTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";

    private GatewayHost Gateway => fixture.Gateway;

    [Theory]
    [InlineData("featured", "true")]
    [InlineData("prise", "\"0.01\"")]
    [InlineData("Price", "\"0.01\"")]
    [InlineData("payto", "\"" + PayTo + "\"")]
    [InlineData("clearsUpstreamHeaders", "true")]
    public async Task An_unknown_or_misspelt_field_is_refused_with_its_name(string field, string value)
    {
        var body = $$"""{"upstream":"http://127.0.0.1:9/x","price":"0.01","payTo":"{{PayTo}}","{{field}}":{{value}}}""";
        var problem = await PostAsync("/api/links", body);
        var error = Assert.Single(problem.GetProperty("errors").EnumerateArray());
        Assert.Equal("unknown_field", error.GetProperty("code").GetString());
        Assert.Equal(field, error.GetProperty("field").GetString());
        Assert.Contains($"'{field}'", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("priceRules", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("clearsUpstreamHeaders,", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_unknown_field_is_named_at_once_and_nothing_is_written()
    {
        var before = (await Gateway.Admin.GetFromJsonAsync<JsonElement>("/api/links")).GetProperty("items").GetArrayLength();
        var problem = await PostAsync("/api/links", $$"""{"upstream":"http://127.0.0.1:9/x","price":"0.01","payTo":"{{PayTo}}","featured":true,"labels":["a"]}""");
        var fields = problem.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("field").GetString()).ToList();
        Assert.Equal(["featured", "labels"], fields);
        Assert.Equal(before, (await Gateway.Admin.GetFromJsonAsync<JsonElement>("/api/links")).GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task A_patch_with_a_typo_changes_nothing()
    {
        var (id, _) = await Gateway.CreateLinkAsync(new { upstream = "http://127.0.0.1:9/x", price = "0.01", payTo = PayTo, name = "Kept" });
        using var response = await Gateway.Admin.PatchAsync($"/api/links/{id}", Json("""{"name":"Changed","prcie":"9.99"}"""));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var link = await Gateway.Admin.GetFromJsonAsync<JsonElement>($"/api/links/{id}");
        Assert.Equal("Kept", link.GetProperty("name").GetString());
        Assert.Equal("0.01", link.GetProperty("price").GetString());
    }

    [Theory]
    [InlineData("""[{"methd":"GET","price":"0.05"}]""", "unknown_field", "priceRules[0].methd")]
    [InlineData("""[{"price":"0.05"}]""", "invalid_price_rule", "priceRules[0]")]
    [InlineData("""[{"method":"BREW","price":"0.05"}]""", "invalid_method", "priceRules[0].method")]
    [InlineData("""[{"pathPrefix":"v2","price":"0.05"}]""", "invalid_path_prefix", "priceRules[0].pathPrefix")]
    [InlineData("""[{"pathPrefix":"/v2?x=1","price":"0.05"}]""", "invalid_path_prefix", "priceRules[0].pathPrefix")]
    [InlineData("""[{"method":"GET"}]""", "invalid_price", "priceRules[0].price")]
    [InlineData("""[{"method":"GET","price":"0"}]""", "invalid_price", "priceRules[0].price")]
    [InlineData("""[{"method":"GET","price":"0.0000001"}]""", "price_too_precise", "priceRules[0].price")]
    [InlineData("""[{"method":"GET","price":true}]""", "invalid_type", "priceRules[0].price")]
    [InlineData("""[{"method":"GET","price":"0.05"},{"method":"get","price":"0.06"}]""", "duplicate_price_rule", "priceRules[1]")]
    [InlineData("""[null]""", "invalid_type", "priceRules")]
    [InlineData("""{"GET":"0.05"}""", "invalid_type", "priceRules")]
    public async Task Bad_price_rules_are_refused_with_the_rule_and_field_named(string rules, string code, string field)
    {
        var problem = await PostAsync("/api/links", $$"""{"upstream":"http://127.0.0.1:9/x","price":"0.01","payTo":"{{PayTo}}","priceRules":{{rules}}}""");
        Assert.Contains(problem.GetProperty("errors").EnumerateArray(),
            e => e.GetProperty("code").GetString() == code && e.GetProperty("field").GetString() == field);
    }

    [Fact]
    public async Task Price_rules_are_shown_replaced_and_cleared()
    {
        var (id, _) = await Gateway.CreateLinkAsync(new
        {
            upstream = "http://127.0.0.1:9/x", price = "0.01", payTo = PayTo,
            priceRules = new object[] { new { method = "post", price = "0.05" }, new { pathPrefix = "/v2/premium", price = 1.25 } },
        });
        var rules = (await Gateway.Admin.GetFromJsonAsync<JsonElement>($"/api/links/{id}")).GetProperty("priceRules");
        Assert.Equal(2, rules.GetArrayLength());
        Assert.Equal("POST", rules[0].GetProperty("method").GetString());
        Assert.Equal("1.25", rules[1].GetProperty("price").GetString());

        using var rename = await Gateway.Admin.PatchAsJsonAsync($"/api/links/{id}", new { name = "renamed" });
        Assert.Equal(2, (await rename.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("priceRules").GetArrayLength());
        using var clear = await Gateway.Admin.PatchAsJsonAsync($"/api/links/{id}", new { priceRules = Array.Empty<object>() });
        Assert.Equal(0, (await clear.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("priceRules").GetArrayLength());
    }

    [Fact]
    public async Task Upstream_headers_are_left_by_an_absent_field_and_cleared_by_null()
    {
        var (id, _) = await Gateway.CreateLinkAsync(new
        {
            upstream = "http://127.0.0.1:9/x", price = "0.01", payTo = PayTo, upstreamHeaders = new Dictionary<string, string> { ["X-Api-Key"] = "k" },
        });
        using var rename = await Gateway.Admin.PatchAsync($"/api/links/{id}", Json("""{"name":"renamed"}"""));
        Assert.True((await rename.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("hasUpstreamHeaders").GetBoolean());
        using var clear = await Gateway.Admin.PatchAsync($"/api/links/{id}", Json("""{"upstreamHeaders":null}"""));
        Assert.False((await clear.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("hasUpstreamHeaders").GetBoolean());
    }

    [Fact]
    public async Task A_payer_cap_is_left_by_an_absent_field_and_removed_by_null()
    {
        using var created = await Gateway.Admin.PostAsync("/api/payers", Json("""{"name":"Capped","monthlyCap":"10.00"}"""));
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("payer").GetProperty("id").GetString();
        using var rename = await Gateway.Admin.PatchAsync($"/api/payers/{id}", Json("""{"name":"Still capped"}"""));
        Assert.Equal("10.00", (await rename.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("monthlyCap").GetString());
        using var uncap = await Gateway.Admin.PatchAsync($"/api/payers/{id}", Json("""{"monthlyCap":null}"""));
        Assert.Equal(JsonValueKind.Null, (await uncap.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("monthlyCap").ValueKind);
    }

    [Fact]
    public async Task An_upstream_header_given_twice_in_different_case_is_refused()
    {
        var problem = await PostAsync("/api/links", $$$"""{"upstream":"http://127.0.0.1:9/x","price":"0.01","payTo":"{{{PayTo}}}","upstreamHeaders":{"X-Key":"a","x-key":"b"}}""");
        Assert.Contains(problem.GetProperty("errors").EnumerateArray(), e => e.GetProperty("code").GetString() == "invalid_upstream_header");
    }

    private async Task<JsonElement> PostAsync(string path, string body)
    {
        using var response = await Gateway.Admin.PostAsync(path, Json(body));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.DoesNotContain("Exception", problem.ToString(), StringComparison.Ordinal);
        return problem;
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
