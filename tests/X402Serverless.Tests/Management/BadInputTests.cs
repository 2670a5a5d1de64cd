using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace X402Serverless.Tests.Management;

/// <summary>Malformed requests anywhere get a 4xx problem with a stable code, never a 500 or a stack trace.</summary>
public sealed class BadInputTests(ManagementFixture fixture) : IClassFixture<ManagementFixture>
{
    [Theory]
    [InlineData("GET", "/api/payments?limit=abc", null)]
    [InlineData("GET", "/api/payments?before=yesterday", null)]
    [InlineData("GET", "/api/payments?limit=0", null)]
    [InlineData("PATCH", "/api/payers/payer_missing", "{}")]
    [InlineData("POST", "/api/payers", "not json")]
    [InlineData("PUT", "/api/organisation/budget", "{\"monthlyBudget\":\"-5\"}")]
    [InlineData("POST", "/api/organisations", "{\"name\":\"\"}")]
    [InlineData("POST", "/SettlementJob", "{\"Data\":")]
    public async Task Every_malformed_request_gets_a_problem_with_a_code(string method, string path, string? body)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }
        using var response = await fixture.Gateway.Admin.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode is >= 200 and < 500, $"{method} {path} -> {(int)response.StatusCode}: {text}");
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
        if ((int)response.StatusCode >= 400)
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.False(string.IsNullOrEmpty(JsonDocument.Parse(text).RootElement.GetProperty("code").GetString()), text);
        }
    }
}
