using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;

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
        Assert.Equal(2_000_000, (await fixture.Ledger.BalanceAsync(Accounts.Allowance(member.OrganisationId, member.Id), default)).Micros);
        Assert.Equal(8_000_000, (await fixture.Ledger.BalanceAsync(Accounts.Pool(member.OrganisationId), default)).Micros);
    }

    [Fact]
    public async Task The_maintenance_timer_never_frees_a_dead_requests_payment_while_the_chain_cannot_say_whether_it_landed()
    {
        var store = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<X402Serverless.Core.Ports.IPaymentStore>(fixture.Gateway.Services);
        var networks = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<X402Serverless.Core.Networks.NetworkRegistry>(fixture.Gateway.Services);
        Assert.True(networks.TryGet("eip155:84532", out var sepolia));
        Assert.Equal(CreditsFixture.DeadRpcUrl, sepolia.RpcUrl);
        var old = DateTimeOffset.UtcNow.AddHours(-1);
        var id = "pay_" + Guid.NewGuid().ToString("N");
        await store.TryReserveAsync(new X402Serverless.Core.Payments.PaymentRecord
        {
            Id = id, LinkId = "lnk_x", OrganisationId = "org_x", Network = "eip155:84532", Asset = "0x5FbDB2315678afecb367f032d93F642f64180aa3",
            Payer = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23", PayTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", Nonce = "0x" + new string('1', 64), Amount = TokenAmount.Parse("1"),
            X402Version = 2, Status = X402Serverless.Core.Payments.PaymentStatus.Reserved, ValidBefore = old.AddMinutes(5).ToUnixTimeSeconds(),
            CreatedAt = old, UpdatedAt = old,
        }, default);
        const string timer = """{"Data":{"timer":{"IsPastDue":false}},"Metadata":{"sys":{"MethodName":"Maintenance"}}}""";
        using var client = fixture.Gateway.Client();
        using var response = await client.PostAsync("/Maintenance", new StringContent(timer, Encoding.UTF8, "application/json"));

        Assert.True(response.StatusCode == HttpStatusCode.OK, string.Join("\n", fixture.Gateway.Logs.Entries.Where(e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Error).Select(e => e.Message)));
        Assert.Contains("stale payments recovered", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("Logs")[0].GetString(), StringComparison.Ordinal);
        // The fixture's Base Sepolia node refuses connections: the pass cannot tell whether the authorization landed, so
        // it leaves the payment as it is rather than free an authorization that might have moved money.
        Assert.Equal(X402Serverless.Core.Payments.PaymentStatus.Reserved, (await store.GetAsync(id, default))!.Status);
    }

    [Fact]
    public async Task The_maintenance_timer_runs_the_due_health_probes()
    {
        using var org = await fixture.NewOrganisationAsync();
        var link = await fixture.NewLinkAsync(org, "0.01", ["credits"], kind: "fail", extra: new { name = "Failing API", listed = true, healthProbe = true });
        const string timer = """{"Data":{"timer":{"IsPastDue":false}},"Metadata":{"sys":{"MethodName":"Maintenance"}}}""";
        using var client = fixture.Gateway.Client();
        using var response = await client.PostAsync("/Maintenance", new StringContent(timer, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Matches("[1-9][0-9]* links probed", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("Logs")[0].GetString());
        var health = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<X402Serverless.Core.Ports.ILinkHealthStore>(fixture.Gateway.Services);
        var found = (await health.ListAsync(default)).Single(h => h.LinkId == link.Id);
        Assert.Equal((false, 500), (found.Up, found.Status));
        Assert.Equal(1, fixture.Upstream.Hits(link.Path));
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
