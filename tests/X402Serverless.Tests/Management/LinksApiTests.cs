using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Management;

public sealed class LinksApiTests(ManagementFixture fixture) : IClassFixture<ManagementFixture>
{
    private const string PayTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";
    private GatewayHost Gateway => fixture.Gateway;

    private static object Valid(string? price = "0.01") => new { upstream = "http://127.0.0.1:9/api", price, payTo = PayTo };

    [Fact]
    public async Task Creating_a_link_returns_its_id_and_absolute_paid_url()
    {
        using var response = await Gateway.Admin.PostAsJsonAsync("/api/links", new
        {
            upstream = "http://127.0.0.1:9/weather", price = "0.005", payTo = PayTo.ToLowerInvariant(), name = "Weather",
            description = "Forecasts", methods = new[] { "get", "POST" },
        });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var link = await response.Content.ReadFromJsonAsync<JsonElement>();
        var id = link.GetProperty("id").GetString()!;
        Assert.Equal($"https://pay.example.test/l/{id}", link.GetProperty("url").GetString());
        Assert.Equal($"/api/links/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal("0.005", link.GetProperty("price").GetString());
        Assert.Equal(PayTo, link.GetProperty("payTo").GetString()); // stored in checksum form
        Assert.Equal(["eip155:84532"], link.GetProperty("networks").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["GET", "POST"], link.GetProperty("methods").EnumerateArray().Select(e => e.GetString()));

        var listed = await Gateway.Admin.GetFromJsonAsync<JsonElement>("/api/links");
        Assert.Contains(listed.GetProperty("items").EnumerateArray(), l => l.GetProperty("id").GetString() == id);
    }

    [Theory]
    [InlineData("""{"price":"0.01","payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C"}""", "invalid_upstream")]
    [InlineData("""{"upstream":"ftp://127.0.0.1/x","price":"0.01","payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C"}""", "invalid_upstream")]
    [InlineData("""{"upstream":"/relative","price":"0.01","payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C"}""", "invalid_upstream")]
    [InlineData("""{"upstream":"http://user:pw@127.0.0.1/x","price":"0.01","payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C"}""", "invalid_upstream")]
    [InlineData("""{"upstream":"http://127.0.0.1/x","price":"free","payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C"}""", "invalid_price")]
    [InlineData("""{"upstream":"http://127.0.0.1/x","price":"0","payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C"}""", "invalid_price")]
    [InlineData("""{"upstream":"http://127.0.0.1/x","price":"0.0000001","payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C"}""", "price_too_precise")]
    [InlineData("""{"upstream":"http://127.0.0.1/x","price":"0.01","payTo":"0x1234"}""", "invalid_pay_to")]
    [InlineData("""{"upstream":"http://127.0.0.1/x","price":"0.01","payTo":"0x0000000000000000000000000000000000000000"}""", "invalid_pay_to")]
    [InlineData("""{"upstream":"http://127.0.0.1/x","price":"0.01","payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","networks":["eip155:1"]}""", "unknown_network")]
    [InlineData("""{"upstream":"http://127.0.0.1/x","price":"0.01","payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","networks":[]}""", "invalid_networks")]
    [InlineData("""{"upstream":"http://127.0.0.1/x","price":"0.01","payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","permit2Networks":["eip155:1"]}""", "unknown_network")]
    [InlineData("""{"upstream":"http://127.0.0.1/x","price":"0.01","payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","permit2Networks":["eip155:1"]}""", "permit2_network_not_offered")]
    [InlineData("""{"upstream":"http://127.0.0.1/x","price":"0.01","payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","permit2Networks":"eip155:84532"}""", "invalid_type")]
    [InlineData("""{"upstream":"http://127.0.0.1/x","price":"0.01","payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","methods":["BREW"]}""", "invalid_method")]
    [InlineData("""{"upstream":"http://127.0.0.1/x","price":"0.01","payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","upstreamHeaders":{"Host":"evil"}}""", "invalid_upstream_header")]
    [InlineData("""{"upstream":"http://127.0.0.1/x","price":"0.01","payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","upstreamHeaders":{"X-Key":"a\nb"}}""", "invalid_upstream_header")]
    [InlineData("""{"upstream":42,"price":"0.01","payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C"}""", "invalid_type")]
    [InlineData("""{"upstream":"http://127.0.0.1/x","price":"0.01","payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","networks":"eip155:84532"}""", "invalid_type")]
    [InlineData("""{"upstream":"http://127.0.0.1/x","price":"0.01","payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","settlement":"later"}""", "invalid_settlement")]
    [InlineData("""{"upstream":"http://127.0.0.1/x","price":"0.01","payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","facilitator":"builtin"}""", "invalid_facilitator")]
    [InlineData("""{"upstream":"http://127.0.0.1/x","price":"0.01","payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","facilitator":"acme"}""", "invalid_facilitator")]
    [InlineData("""{"upstream":"http://127.0.0.1/x","price":"0.01","payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","verifyOnChain":"yes"}""", "invalid_type")]
    [InlineData("""{"upstream": """, "invalid_json")]
    [InlineData("""[1,2]""", "invalid_json")]
    public async Task Invalid_links_get_400_problem_details_with_a_stable_code(string body, string code)
    {
        using var response = await Gateway.Admin.PostAsync("/api/links", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        var codes = problem.TryGetProperty("errors", out var errors)
            ? errors.EnumerateArray().Select(e => e.GetProperty("code").GetString()).ToList()
            : [problem.GetProperty("code").GetString()];
        Assert.Contains(code, codes);
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.DoesNotContain("Exception", problem.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_numeric_price_is_read_by_its_exact_text()
    {
        using var response = await Gateway.Admin.PostAsync("/api/links",
            new StringContent($$"""{"upstream":"http://127.0.0.1:9/x","price":0.1,"payTo":"{{PayTo}}"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("0.10", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("price").GetString());
    }

    [Fact]
    public async Task Every_problem_in_a_request_is_reported_at_once()
    {
        using var response = await Gateway.Admin.PostAsJsonAsync("/api/links", new { upstream = "nope", price = "x", payTo = "y" });
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        var fields = problem.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("field").GetString()).ToHashSet();
        Assert.Superset(new HashSet<string?> { "upstream", "price", "payTo" }, fields);
    }

    [Fact]
    public async Task Requests_without_a_valid_key_get_401()
    {
        using var anonymous = Gateway.Client();
        using var none = await anonymous.GetAsync("/api/links");
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal("Bearer", none.Headers.WwwAuthenticate.Single().Scheme);
        using var wrongClient = Gateway.Client("x402sk_not_a_real_key_at_all_000000000000");
        using var wrong = await wrongClient.PostAsJsonAsync("/api/links", Valid());
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal("unauthorized", (await wrong.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_price_edit_takes_effect_on_the_next_402()
    {
        var (id, url) = await Gateway.CreateLinkAsync(Valid("0.01"));
        Assert.Equal("10000", await AmountIn402Async(url));

        using var patch = await Gateway.Admin.PatchAsJsonAsync($"/api/links/{id}", new { price = "0.25" });
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        Assert.Equal("0.25", (await patch.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("price").GetString());

        Assert.Equal("250000", await AmountIn402Async(url));
    }

    [Fact]
    public async Task Patch_changes_only_what_it_names_and_validates_it()
    {
        var (id, _) = await Gateway.CreateLinkAsync(new { upstream = "http://127.0.0.1:9/a", price = "0.01", payTo = PayTo, name = "Before" });
        using var bad = await Gateway.Admin.PatchAsJsonAsync($"/api/links/{id}", new { price = "-3" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);

        using var ok = await Gateway.Admin.PatchAsJsonAsync($"/api/links/{id}", new { name = "After" });
        var link = await ok.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("After", link.GetProperty("name").GetString());
        Assert.Equal("0.01", link.GetProperty("price").GetString());
        Assert.Equal("http://127.0.0.1:9/a", link.GetProperty("upstream").GetString());
    }

    [Fact]
    public async Task Deleted_links_are_gone_from_the_api_and_the_paid_path()
    {
        var (id, url) = await Gateway.CreateLinkAsync(Valid());
        using var paidBefore = await new HttpClient().GetAsync(url.Replace("https://pay.example.test", Gateway.BaseUrl, StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.PaymentRequired, paidBefore.StatusCode);

        using var delete = await Gateway.Admin.DeleteAsync($"/api/links/{id}");
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        using var get = await Gateway.Admin.GetAsync($"/api/links/{id}");
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        using var paidAfter = await new HttpClient().GetAsync(url.Replace("https://pay.example.test", Gateway.BaseUrl, StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.NotFound, paidAfter.StatusCode);
    }

    [Fact]
    public async Task Upstream_headers_are_write_only_and_not_stored_in_plain_text()
    {
        const string secret = "sk_live_provider_secret_value_123";
        var (id, _) = await Gateway.CreateLinkAsync(new { upstream = "http://127.0.0.1:9/a", price = "0.01", payTo = PayTo, upstreamHeaders = new Dictionary<string, string> { ["X-Api-Key"] = secret } });

        var shown = await Gateway.Admin.GetStringAsync($"/api/links/{id}");
        Assert.DoesNotContain(secret, shown, StringComparison.Ordinal);
        Assert.True(JsonDocument.Parse(shown).RootElement.GetProperty("hasUpstreamHeaders").GetBoolean());
        var listed = await Gateway.Admin.GetStringAsync("/api/links");
        Assert.DoesNotContain(secret, listed, StringComparison.Ordinal);

        var dataDirectory = Gateway.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<X402Serverless.Handler.Hosting.GatewayOptions>>().Value.DataDirectory;
        foreach (var file in Directory.GetFiles(dataDirectory, "x402.db*"))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream, Encoding.Latin1);
            Assert.DoesNotContain(secret, await reader.ReadToEndAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Unknown_ids_get_404_problem_details()
    {
        using var get = await Gateway.Admin.GetAsync("/api/links/lnk_doesnotexist");
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        Assert.Equal("not_found", (await get.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        using var paid = await Gateway.Client().GetAsync("/l/lnk_doesnotexist");
        Assert.Equal(HttpStatusCode.NotFound, paid.StatusCode);
    }

    private async Task<string> AmountIn402Async(string url)
    {
        using var client = Gateway.Client();
        using var response = await client.GetAsync(new Uri(url).PathAndQuery);
        return PaymentBuilder.RequirementFrom(response)["amount"]!.GetValue<string>();
    }
}
