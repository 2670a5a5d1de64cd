using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using X402Serverless.Core.Ledger;

namespace X402Serverless.Tests.Credits;

/// <summary>The timer and queue functions as the Functions host invokes the custom handler.</summary>
public sealed class TimerAndQueueFunctionTests(CreditsFixture fixture) : IClassFixture<CreditsFixture>
{
    [Fact]
    public async Task The_allowance_timer_invocation_grants_once_even_when_the_host_fires_it_twice()
    {
        using var org = await fixture.NewOrganisationAsync();
        var member = await CreditsFixture.NewPayerAsync(org, new { name = "Member", monthlyAllowance = "2.00" });
        await fixture.FundAsync(Accounts.Pool(member.OrganisationId), 10_000_000);
        const string timer = """
            {"Data":{"timer":{"Schedule":{"AdjustForDST":true},"ScheduleStatus":{"Last":"2026-11-01T00:00:00+00:00","Next":"2026-12-01T00:00:00+00:00","LastUpdated":"2026-11-01T00:00:00+00:00"},"IsPastDue":true}},
             "Metadata":{"sys":{"MethodName":"AllowanceReset","UtcNow":"2026-11-21T10:00:00Z"}}}
            """;
        using var client = fixture.Gateway.Client();
        for (var i = 0; i < 2; i++)
        {
            using var response = await client.PostAsync("/AllowanceReset", new StringContent(timer, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(JsonValueKind.Array, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("Logs").ValueKind);
        }
        Assert.Equal(2_000_000, await fixture.Ledger.BalanceAsync(Accounts.Allowance(member.OrganisationId, member.Id), default));
        Assert.Equal(8_000_000, await fixture.Ledger.BalanceAsync(Accounts.Pool(member.OrganisationId), default));
    }

    [Theory]
    [InlineData("""{"Data":{"evt":"\"{\\\"eventId\\\":\\\"evt_unknown\\\"}\""},"Metadata":{}}""")]
    [InlineData("""{"Data":{"evt":{"eventId":"evt_unknown"}},"Metadata":{}}""")]
    [InlineData("""{"Data":{},"Metadata":{}}""")]
    public async Task The_stripe_event_worker_accepts_the_hosts_payload_shapes(string invocation)
    {
        using var client = fixture.Gateway.Client();
        using var response = await client.PostAsync("/StripeEventWorker", new StringContent(invocation, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var log = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("Logs")[0].GetString();
        Assert.StartsWith("Stripe event: ", log, StringComparison.Ordinal);
    }
}
