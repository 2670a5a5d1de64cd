using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace X402Serverless.Tests.Management;

/// <summary>Malformed requests anywhere get a 4xx problem with a stable code, never a 500 or a stack trace.</summary>
public sealed class BadInputTests(ManagementFixture fixture) : IClassFixture<ManagementFixture>
{
    [Theory]
    [InlineData("GET", "/api/payments?limit=abc", null, 400, "invalid_limit")]
    [InlineData("GET", "/api/payments?before=yesterday", null, 400, "invalid_before")]
    [InlineData("GET", "/api/payments?limit=0", null, 400, "invalid_limit")]
    [InlineData("GET", "/api/payments?limit=99999999999", null, 400, "invalid_limit")]
    [InlineData("PATCH", "/api/payers/payer_missing", "{}", 404, "not_found")]
    [InlineData("POST", "/api/payers", "not json", 400, "invalid_json")]
    [InlineData("PUT", "/api/organisation/budget", "{\"monthlyBudget\":\"-5\"}", 400, "invalid_budget")]
    [InlineData("POST", "/api/organisations", "{\"name\":\"\"}", 400, "invalid_name")]
    // Host-only: standalone the route does not exist, however it is called.
    [InlineData("POST", "/SettlementJob", "{\"Data\":", 404, "not_found")]
    public async Task Every_malformed_request_gets_a_problem_with_a_code(string method, string path, string? body, int status, string code)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }
        using var response = await fixture.Gateway.Admin.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"{method} {path} -> {(int)response.StatusCode}: {text}");
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(code, JsonDocument.Parse(text).RootElement.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Well_formed_paging_parameters_are_accepted()
    {
        using var response = await fixture.Gateway.Admin.GetAsync("/api/payments?limit=500&before=2026-11-26T12:00:00Z");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(JsonValueKind.Array, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("items").ValueKind);
    }
}
