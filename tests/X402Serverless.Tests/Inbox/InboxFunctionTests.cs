using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using X402Serverless.Core.Inbox;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;
using X402Serverless.Core.Ports;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.Inbox.InboxFixture;

namespace X402Serverless.Tests.Inbox;

/// <summary>
/// The Service Bus-triggered InboxDelivery function as the Functions host invokes the custom handler (POST
/// /InboxDelivery with {"Data":{"job":…},"Metadata":{…}}), with the in-process worker off as in Azure, and the
/// Maintenance timer handing a retry that came due back to the queue.
/// </summary>
public sealed class InboxFunctionTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 27, 3, 0, 0, TimeSpan.Zero);

    /// <summary>The invocation the host sends for a queue message whose body is <paramref name="body"/> (a JSON string, encoded once more).</summary>
    private static StringContent Invocation(string body, string messageId) => new(
        "{\"Data\":{\"job\":" + JsonSerializer.Serialize(body) + "},\"Metadata\":{\"DeliveryCount\":\"1\",\"MessageId\":\"\\\"" + messageId
        + "\\\"\",\"sys\":{\"MethodName\":\"InboxDelivery\",\"UtcNow\":\"2026-11-27T03:00:00Z\"}}}", Encoding.UTF8, "application/json");

    private static async Task<string> LogOfAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(JsonValueKind.Object, body.GetProperty("Outputs").ValueKind);
        return body.GetProperty("Logs")[0].GetString()!;
    }

    private static async Task<(GatewayHost Gateway, FakeTimeProvider Time)> StartAsync(int smtpPort)
    {
        var time = new FakeTimeProvider(Start);
        var settings = new Dictionary<string, string?>
        {
            ["X402:FacilitatorUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}",
            ["X402:Networks:0:ChainId"] = "84532",
            ["X402:Networks:0:RpcUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}",
            ["X402:Inbox:SmtpHost"] = "127.0.0.1",
            ["X402:Inbox:SmtpPort"] = smtpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["X402:Inbox:SmtpSecurity"] = "none",
            ["X402:Inbox:From"] = "inbox@gateway.test",
            ["X402:Inbox:FirstRetrySeconds"] = "60",
            ["X402:Inbox:RunWorker"] = "false",
        };
        var gateway = await GatewayHost.StartAsync(GatewayHost.UnderFunctionsHost(settings), b => b.Services.AddSingleton<TimeProvider>(time));
        return (gateway, time);
    }

    [Fact]
    public async Task A_message_is_delivered_by_the_queue_function_once_and_a_retry_is_queued_again_by_maintenance_when_due()
    {
        await using var smtp = await TestSmtpServer.StartAsync();
        var (gateway, time) = await StartAsync(smtp.Port);
        await using var running = gateway;
        var org = gateway.Client((await (await gateway.Admin.PostAsJsonAsync("/api/organisations", new { name = "Inbox org" })).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString());
        var owner = $"owner-{Guid.NewGuid():N}@example.com";
        smtp.Deferred[owner] = 1;
        var (_, url) = await NewInboxAsync(org, owner);
        var payer = await NewPayerAsync(org);
        await gateway.Services.GetRequiredService<ILedger>().PostAsync(
            LedgerEntry.Transfer("test-fund", "topup", Accounts.CardClearing, Accounts.Credits(payer.Id), Usd.FromMicros(1_000_000)), [], default);
        using var paid = await SendAsync(url, new { subject = "Via the queue", body = "Hello", replyTo = "sender@example.org" }, payer.Key);
        Assert.Equal(HttpStatusCode.Accepted, paid.StatusCode);
        var receipt = (await paid.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("receipt").GetString()!;
        var store = gateway.Services.GetRequiredService<IInboxMessageStore>();
        // No worker in this process: the message waits for the function.
        Assert.Equal(MessageStatuses.Queued, (await store.GetAsync(receipt, default))!.Status);

        // The job body JobQueues sends; the relay defers (451), so this attempt schedules a retry and completes the queue message.
        var job = JsonSerializer.Serialize(new { receipt });
        using var client = gateway.Client();
        Assert.Equal($"Inbox message {receipt}: retry.", await LogOfAsync(await client.PostAsync("/InboxDelivery", Invocation(job, receipt))));
        Assert.Equal(1, smtp.Attempts[owner]);
        Assert.Contains("not due before", await LogOfAsync(await client.PostAsync("/InboxDelivery", Invocation(job, receipt))), StringComparison.Ordinal);
        Assert.Equal(1, smtp.Attempts[owner]);

        // When the retry comes due, the Maintenance timer hands it to the queue again (the one job due in this gateway).
        smtp.Deferred.TryRemove(owner, out _);
        time.Advance(TimeSpan.FromMinutes(2));
        using (var maintenance = await client.PostAsync("/Maintenance", new StringContent("""{"Data":{"timer":{"IsPastDue":false}},"Metadata":{"sys":{"MethodName":"Maintenance"}}}""", Encoding.UTF8, "application/json")))
        {
            Assert.Contains("1 jobs re-dispatched", await LogOfAsync(maintenance), StringComparison.Ordinal);
        }
        Assert.Equal($"Inbox message {receipt}: delivered.", await LogOfAsync(await client.PostAsync("/InboxDelivery", Invocation(job, $"{receipt}:1"))));
        Assert.Single(smtp.To(owner));

        // A redelivered queue message finds it delivered: nothing is sent again.
        Assert.Contains("needs no delivery (delivered)", await LogOfAsync(await client.PostAsync("/InboxDelivery", Invocation(job, receipt))), StringComparison.Ordinal);
        Assert.Single(smtp.To(owner));
        Assert.Equal(750_000, (await gateway.Services.GetRequiredService<ILedger>().BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);
    }

    [Theory]
    [InlineData("""{"Data":{"job":"{\"receipt\":\"msg_unknown\"}"},"Metadata":{}}""", "needs no delivery (unknown)")]
    [InlineData("""{"Data":{"job":{"receipt":"msg_unknown"}},"Metadata":{}}""", "needs no delivery (unknown)")]
    [InlineData("""{"Data":{"job":"not json"},"Metadata":{}}""", "without a receipt")]
    [InlineData("""{nope""", "without a receipt")]
    public async Task Messages_that_can_never_be_delivered_are_completed_with_a_log_not_retried(string invocation, string log)
    {
        var (gateway, _) = await StartAsync(PeerProcess.FreePort());
        await using var running = gateway;
        using var client = gateway.Client();
        using var response = await client.PostAsync("/InboxDelivery", new StringContent(invocation, Encoding.UTF8, "application/json"));
        Assert.Contains(log, await LogOfAsync(response), StringComparison.Ordinal);
    }
}
