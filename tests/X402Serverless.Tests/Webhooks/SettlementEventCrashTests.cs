using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Ports;
using X402Serverless.Tests.EndToEnd;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.EndToEnd.PaidLinkClient;

namespace X402Serverless.Tests.Webhooks;

/// <summary>
/// A settlement's payment.settled survives a crash at any point around it: the gateway settles a deferred payment on
/// chain, a fault stops it (the event store failing, or the process dying before or after the payment is recorded
/// settled), the gateway is started again on the same store, and a real receiver on loopback gets the event exactly once.
/// </summary>
[Collection(ChainGroup.Name)]
public sealed class SettlementEventCrashTests(ChainFixture chain)
{
    [Theory]
    [InlineData(Fault.EventStoreFails)]
    [InlineData(Fault.CrashBeforeSettledIsRecorded)]
    [InlineData(Fault.CrashAfterSettledIsRecorded)]
    public async Task A_crash_around_a_settlement_still_delivers_its_event_exactly_once(Fault fault)
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var dataDirectory = Path.Combine(Path.GetTempPath(), "x402-crash-" + Guid.NewGuid().ToString("N"));
        var settings = chain.GatewaySettings(chain.FacilitatorUrl);
        settings["X402:DataDirectory"] = dataDirectory;
        settings["X402:Settlement:GasWalletKey"] = await chain.FundedWalletAsync();
        settings["X402:OutboundWebhooks:PollSeconds"] = "0.05";
        // The first process never sends: what the receiver gets is what survived the crash.
        settings["X402:OutboundWebhooks:RunWorker"] = "false";
        var tripped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        string paymentId, endpointId;
        await using (var first = await GatewayHost.StartAsync(settings, b => b.Host.UseServiceProviderFactory(new LateRegistrations(services => Break(services, fault, tripped)))))
        {
            endpointId = await NewEndpointAsync(first, receiver.Url("settled"));
            var link = await chain.CreateLinkAsync(gateway: first, settlement: "deferred", facilitator: "builtin", deferredPayers: "any");
            using var paid = await SendAsync(link.Url, new PaymentBuilder { Requirement = await RequirementAsync(link.Url), PayerKey = chain.PayerKey }.V2Header());
            Assert.Equal(200, (int)paid.StatusCode);
            paymentId = paid.Headers.GetValues("X-Payment-Id").Single();
            await tripped.Task.WaitAsync(TimeSpan.FromSeconds(60));
            var before = await PaymentsApiClient.GetAsync(first, paymentId);
            Assert.Equal(fault == Fault.CrashAfterSettledIsRecorded ? "settled" : "pending", before.GetProperty("status").GetString());
            Assert.Equal(fault == Fault.EventStoreFails ? 0 : 1, (await DeliveriesAsync(first, endpointId)).Length);
        }

        settings["X402:OutboundWebhooks:RunWorker"] = "true";
        var second = await GatewayHost.StartAsync(settings);
        try
        {
            var payment = await PaymentsApiClient.WaitForEndAsync(second, paymentId, TimeSpan.FromSeconds(60));
            Assert.Equal("settled", payment.GetProperty("status").GetString());
            await Poll.UntilAsync(async () => (await DeliveriesAsync(second, endpointId)) is [var d] && d.GetProperty("status").GetString() == "delivered",
                TimeSpan.FromSeconds(30));

            var received = Assert.Single(receiver.To("settled"));
            Assert.Equal("payment.settled", received.Headers["X402-Event-Type"]);
            var body = JsonDocument.Parse(received.Body).RootElement;
            var data = body.GetProperty("data").GetProperty("object");
            Assert.Equal(paymentId, data.GetProperty("paymentId").GetString());
            Assert.Equal(payment.GetProperty("transaction").GetString(), data.GetProperty("transaction").GetString());
            // The id a receiver dedups on is the payment's own, whichever process raised it.
            Assert.Equal(Core.OutboundWebhooks.WebhookIds.EventFor(body.GetProperty("organisation").GetString()!, "payment.settled", paymentId), received.EventId);
        }
        finally
        {
            await second.DisposeAsync();
            TryDelete(dataDirectory);
        }
    }

    public enum Fault
    {
        EventStoreFails,
        CrashBeforeSettledIsRecorded,
        CrashAfterSettledIsRecorded,
    }

    private static async Task<string> NewEndpointAsync(GatewayHost gateway, string url)
    {
        using var response = await gateway.Admin.PostAsJsonAsync("/api/webhooks", new { url, events = new[] { "payment.settled", "payment.failed" } });
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode, json.ToString());
        return json.GetProperty("endpoint").GetProperty("id").GetString()!;
    }

    private static async Task<JsonElement[]> DeliveriesAsync(GatewayHost gateway, string endpointId) =>
        (await gateway.Admin.GetFromJsonAsync<JsonElement>($"/api/webhooks/{endpointId}/deliveries")).GetProperty("items").EnumerateArray().ToArray();

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // SQLite may still hold the file for a moment; the temp folder is cleaned by the OS.
        }
    }

    /// <summary>One store of the gateway's wrapped to fail as <paramref name="fault"/> says, once.</summary>
    private static void Break(IServiceCollection services, Fault fault, TaskCompletionSource tripped)
    {
        if (fault == Fault.EventStoreFails)
        {
            LateRegistrations.Decorate<IWebhookEndpointStore>(services, (_, inner) => FaultProxy.Wrap(inner, nameof(IWebhookEndpointStore.AddEventAsync), throwBefore: true, tripped));
        }
        else
        {
            LateRegistrations.Decorate<IPaymentStore>(services,
                (_, inner) => FaultProxy.Wrap(inner, nameof(IPaymentStore.MarkSettledAsync), throwBefore: fault == Fault.CrashBeforeSettledIsRecorded, tripped));
        }
    }
}
