using System.Net.Http.Json;
using System.Text;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Management;

/// <summary>
/// Malformed JSON on every route that reads it is the route's own 400 problem, never a 500: lone UTF-16 surrogates
/// (which System.Text.Json parses but cannot read back), wrong kinds, and bodies over the route's size bound (413).
/// </summary>
public sealed class JsonInputTests(JsonInputFixture fixture) : IClassFixture<JsonInputFixture>
{
    public static TheoryData<int> RouteIndexes => new(Enumerable.Range(0, 13));

    [Theory]
    [MemberData(nameof(RouteIndexes))]
    public async Task A_lone_surrogate_in_a_string_value_gets_the_routes_400(int index)
    {
        var route = fixture.Routes[index];
        var at = route.ValidBody.IndexOf(":\"", StringComparison.Ordinal) + 2;
        var body = route.ValidBody[..at] + "\\ud800" + route.ValidBody[at..];
        using var response = await fixture.SendAsync(route, Encoding.UTF8.GetBytes(body));
        await ProblemAssert.IsAsync(response, 400, route.MalformedCode, $"{route} {body}");
    }

    [Theory]
    [MemberData(nameof(RouteIndexes))]
    public async Task A_lone_surrogate_in_a_property_name_gets_the_routes_400(int index)
    {
        var route = fixture.Routes[index];
        var body = "{\"\\udc00\":1," + route.ValidBody[1..];
        using var response = await fixture.SendAsync(route, Encoding.UTF8.GetBytes(body));
        await ProblemAssert.IsAsync(response, 400, route.MalformedCode, route.ToString());
    }

    [Theory]
    [InlineData("/facilitator/verify", "\"2\"")]
    [InlineData("/facilitator/verify", "[2]")]
    [InlineData("/facilitator/verify", "1e400")]
    [InlineData("/facilitator/settle", "\"two\"")]
    [InlineData("/facilitator/settle", "{}")]
    [InlineData("/facilitator/settle", "2.5")]
    public async Task A_non_integer_x402Version_on_the_facilitator_is_a_400(string path, string version)
    {
        var body = fixture.Routes.Single(r => r.Path == path).ValidBody.Replace("{\"x402Version\":2,", "{\"x402Version\":" + version + ",", StringComparison.Ordinal);
        using var response = await fixture.SendAsync(fixture.Routes.Single(r => r.Path == path), Encoding.UTF8.GetBytes(body));
        await ProblemAssert.IsAsync(response, 400, "invalid_x402_version", version);
    }

    [Fact]
    public async Task A_management_body_over_64_KB_declared_up_front_is_a_413()
    {
        var body = "{\"name\":\"" + new string('a', 64 * 1024) + "\"}";
        using var response = await fixture.Gateway.Admin.PostAsync("/api/payers", new StringContent(body, Encoding.UTF8, "application/json"));
        await ProblemAssert.IsAsync(response, 413, "payload_too_large");
    }

    [Fact]
    public async Task A_chunked_management_body_that_grows_past_64_KB_is_a_413_not_a_500()
    {
        // No Content-Length: Kestrel stops the read at the route's bound and the exception handler answers 413.
        var bytes = Encoding.UTF8.GetBytes("{\"name\":\"" + new string('a', 200 * 1024) + "\"}");
        using var content = new StreamContent(new MemoryStream(bytes));
        content.Headers.ContentType = new("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/links") { Content = content };
        request.Headers.TransferEncodingChunked = true;
        using var response = await fixture.Gateway.Admin.SendAsync(request);
        await ProblemAssert.IsAsync(response, 413, "payload_too_large");
    }

    [Fact]
    public async Task A_paid_link_body_over_MaxForwardedBodyBytes_is_a_413_before_any_payment_is_looked_at()
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["X402:FacilitatorUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}",
            ["X402:MaxForwardedBodyBytes"] = "1024",
        });
        var (_, url) = await gateway.CreateLinkAsync(new { upstream = "http://127.0.0.1:9/x", price = "0.01", payTo = JsonInputFixture.PayTo, methods = new[] { "POST" } });
        using var client = new HttpClient();
        using var large = await client.PostAsync(url, new ByteArrayContent(new byte[1025]));
        await ProblemAssert.IsAsync(large, 413, "payload_too_large");
        using var small = await client.PostAsync(url, new ByteArrayContent(new byte[1024]));
        Assert.Equal(402, (int)small.StatusCode);
    }

    [Fact]
    public async Task Upstream_headers_are_validated_on_create_and_patch()
    {
        using var created = await fixture.Gateway.Admin.PostAsJsonAsync("/api/links", new
        {
            upstream = "http://127.0.0.1:9/x", price = "0.01", payTo = JsonInputFixture.PayTo, upstreamHeaders = new Dictionary<string, string> { ["X-Key"] = "caf\u00e9" },
        });
        await ProblemAssert.IsAsync(created, 400, "invalid_upstream_header");
        using var patched = await fixture.Gateway.Admin.PatchAsJsonAsync($"/api/links/{fixture.LinkId}", new
        {
            upstreamHeaders = new Dictionary<string, string> { ["X-Key"] = new string('a', 70 * 1024) },
        });
        Assert.Equal(413, (int)patched.StatusCode); // 70 KB does not fit the management body bound at all
        using var patchedTooMany = await fixture.Gateway.Admin.PatchAsJsonAsync($"/api/links/{fixture.LinkId}", new
        {
            upstreamHeaders = new Dictionary<string, string> { ["X-A"] = new string('a', 5000), ["X-B"] = new string('b', 5000) },
        });
        await ProblemAssert.IsAsync(patchedTooMany, 400, "invalid_upstream_header");
    }
}
