using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.EndToEnd.PaidLinkClient;

namespace X402Serverless.Tests.EndToEnd;

/// <summary>
/// The Service Bus-triggered settlement function as the Functions host invokes a custom handler:
/// POST /SettlementJob with {"Data":{"job":...},"Metadata":{...}}, answered with {"Outputs","Logs","ReturnValue"}.
/// </summary>
[Collection(ChainGroup.Name)]
public sealed class SettlementFunctionTests(ChainFixture chain)
{
    [Fact]
    public async Task A_queued_job_delivered_as_the_host_sends_it_is_settled_once_and_redelivery_is_harmless()
    {
        // A gateway whose own worker is off, as in Azure where the queue trigger drives settlement.
        var settings = chain.GatewaySettings(chain.FacilitatorUrl);
        settings["X402:Settlement:RunWorker"] = "false";
        await using var gateway = await GatewayHost.StartAsync(GatewayHost.UnderFunctionsHost(settings));
        var link = await chain.CreateLinkAsync(gateway: gateway, settlement: "deferred", facilitator: "builtin", deferredPayers: "any");
        using var paid = await SendAsync(link.Url, new PaymentBuilder { Requirement = await RequirementAsync(link.Url), PayerKey = chain.PayerKey }.V2Header());
        var id = paid.Headers.GetValues("X-Payment-Id").Single();
        Assert.Equal(PaymentStatus.Pending, (await Store(gateway).GetAsync(id, default))!.Status);

        // The Service Bus message body is a JSON string the host encodes once more before embedding it.
        var message = JsonSerializer.Serialize(JsonSerializer.Serialize(new { paymentId = id }));
        var invocation = "{\"Data\":{\"job\":" + message + "},\"Metadata\":{\"DeliveryCount\":\"1\",\"MessageId\":\"\\\"" + id
            + "\\\"\",\"sys\":{\"MethodName\":\"SettlementJob\",\"UtcNow\":\"2026-11-21T10:00:00Z\"}}}";
        using var client = gateway.Client();
        using var first = await client.PostAsync("/SettlementJob", new StringContent(invocation, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var body = await first.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(JsonValueKind.Object, body.GetProperty("Outputs").ValueKind);
        Assert.Contains("Settled", body.GetProperty("Logs")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal(PaymentStatus.Settled, (await Store(gateway).GetAsync(id, default))!.Status);

        using var redelivered = await client.PostAsync("/SettlementJob", new StringContent(invocation, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, redelivered.StatusCode);
        Assert.Equal(1, await chain.Rpc.TransferLogCountAsync(chain.Token, link.PayTo));
        Assert.Equal(10_000, await chain.BalanceAsync(link.PayTo));
    }

    [Theory]
    [InlineData("""{"Data":{"job":"{\"paymentId\":\"pay_unknown\"}"},"Metadata":{}}""")]
    [InlineData("""{"Data":{"job":{"paymentId":"pay_unknown"}},"Metadata":{}}""")]
    [InlineData("""{"Data":{"job":"not json"},"Metadata":{}}""")]
    [InlineData("""{"Data":{},"Metadata":{}}""")]
    [InlineData("""{nope""")]
    public async Task Messages_that_can_never_settle_are_completed_with_a_log_not_retried(string invocation)
    {
        using var client = chain.Gateway.Client();
        using var response = await client.PostAsync("/SettlementJob", new StringContent(invocation, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(JsonValueKind.Array, body.GetProperty("Logs").ValueKind);
    }

    private static IPaymentStore Store(GatewayHost gateway) => gateway.Services.GetRequiredService<IPaymentStore>();
}
