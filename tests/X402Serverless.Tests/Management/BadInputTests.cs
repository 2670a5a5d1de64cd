using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using X402Serverless.Core.Money;

namespace X402Serverless.Tests.Management;

/// <summary>Malformed requests anywhere get a 4xx problem with a stable code, never a 500 or a stack trace.</summary>
public sealed class BadInputTests(ManagementFixture fixture) : IClassFixture<ManagementFixture>
{
    [Theory]
    [InlineData("GET", "/api/payments?limit=abc", null, 400, "invalid_limit")]
    [InlineData("GET", "/api/payments?before=yesterday", null, 400, "invalid_before")]
    [InlineData("GET", "/api/payments?limit=0", null, 400, "invalid_limit")]
    [InlineData("GET", "/api/payments?limit=99999999999", null, 400, "invalid_limit")]
    [InlineData("GET", "/api/payments?cursor=not-a-cursor", null, 400, "invalid_cursor")]
    [InlineData("GET", "/api/payments?cursor=", null, 400, "invalid_cursor")]
    [InlineData("GET", "/api/payments?cursor=%25%25%25", null, 400, "invalid_cursor")]
    // "99999999999999999999.x" (ticks past the last representable time) and "1." (no id), base64url.
    [InlineData("GET", "/api/payments?cursor=OTk5OTk5OTk5OTk5OTk5OTk5OTkueA", null, 400, "invalid_cursor")]
    [InlineData("GET", "/api/payments?cursor=MS4", null, 400, "invalid_cursor")]
    // A valid cursor ("1.pay_x") with before as well: which one would win is not guessed.
    [InlineData("GET", "/api/payments?cursor=MS5wYXlfeA&before=2026-11-26T12:00:00Z", null, 400, "invalid_cursor")]
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
        using var long_ = await fixture.Gateway.Admin.GetAsync("/api/payments?cursor=" + new string('A', 5000));
        Assert.Equal(HttpStatusCode.BadRequest, long_.StatusCode);
    }

    [Fact]
    public async Task The_list_pages_by_its_next_cursor_through_payments_sharing_one_instant()
    {
        var organisation = (await fixture.Gateway.Admin.GetFromJsonAsync<JsonElement>("/api/organisation")).GetProperty("id").GetString()!;
        var store = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<X402Serverless.Core.Ports.IPaymentStore>(fixture.Gateway.Services);
        var link = "lnk_same_" + Guid.NewGuid().ToString("N")[..8];
        var at = new DateTimeOffset(2026, 11, 20, 9, 0, 0, TimeSpan.Zero);
        var ids = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            var p = X402Serverless.Tests.Stores.PaymentStoreContract.Payment(organisation, link: link) with { CreatedAt = at, UpdatedAt = at };
            Assert.True(await store.TryReserveAsync(p, default));
            ids.Add(p.Id);
        }
        var seen = new List<string>();
        var path = $"/api/payments?linkId={link}&limit=3";
        for (var pages = 0; pages < 10; pages++)
        {
            var body = await fixture.Gateway.Admin.GetFromJsonAsync<JsonElement>(path);
            seen.AddRange(body.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()!));
            if (body.GetProperty("next").GetString() is not { } next)
            {
                break;
            }
            path = $"/api/payments?linkId={link}&limit=3&cursor={Uri.EscapeDataString(next)}";
        }
        Assert.Equal(ids.Order(StringComparer.Ordinal), seen);
    }

    [Fact]
    public async Task A_stored_payment_with_an_out_of_range_valid_before_still_lists()
    {
        // Rows written before validBefore was bounded can hold any 64-bit value; they must not break the list.
        var organisation = await fixture.Gateway.Admin.GetFromJsonAsync<JsonElement>("/api/organisation");
        var store = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<X402Serverless.Core.Ports.IPaymentStore>(fixture.Gateway.Services);
        var id = "pay_" + Guid.NewGuid().ToString("N");
        var now = DateTimeOffset.UtcNow;
        Assert.True(await store.TryReserveAsync(new X402Serverless.Core.Payments.PaymentRecord
        {
            Id = id, LinkId = "lnk_old", OrganisationId = organisation.GetProperty("id").GetString()!, Network = "eip155:84532",
            Asset = "0x036CbD53842c5426634e7929541eC2318f3dCF7e", Payer = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23",
            PayTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", Nonce = "0x" + new string('2', 64), Amount = TokenAmount.Parse("1"), X402Version = 2,
            Status = X402Serverless.Core.Payments.PaymentStatus.Reserved, ValidBefore = long.MaxValue, CreatedAt = now, UpdatedAt = now,
        }, default));

        using var list = await fixture.Gateway.Admin.GetAsync("/api/payments?linkId=lnk_old");
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        var item = Assert.Single((await list.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("items").EnumerateArray());
        Assert.Equal(id, item.GetProperty("id").GetString());
        Assert.StartsWith("9999-12-31", item.GetProperty("validBefore").GetString(), StringComparison.Ordinal);
    }
}
