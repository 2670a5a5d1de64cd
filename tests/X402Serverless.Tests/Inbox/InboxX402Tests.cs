using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Inbox;
using X402Serverless.Core.Ports;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.Inbox.InboxFixture;

namespace X402Serverless.Tests.Inbox;

/// <summary>Inbox links paid with x402 on the test chain (the official client, the official facilitator), delivering over SMTP.</summary>
[Collection(ChainGroup.Name)]
public sealed class InboxX402Tests(ChainFixture chain)
{
    private async Task<GatewayHost> GatewayAsync(int smtpPort)
    {
        var settings = chain.GatewaySettings(chain.FacilitatorUrl);
        // A gas wallet of its own, so this gateway never races another's nonces.
        settings["X402:Settlement:GasWalletKey"] = await chain.FundedWalletAsync();
        settings["X402:Networks:0:RpcUrl"] = chain.RpcUrl;
        return await StartGatewayAsync(smtpPort, settings);
    }

    private static async Task<(string Id, string Url, string PayTo)> InboxAsync(GatewayHost gateway, string owner)
    {
        var payTo = ChainFixture.NewAddress().ToString();
        using var response = await gateway.Admin.PostAsJsonAsync("/api/links", new
        {
            name = "Pay to reach me", price = "0.05", payTo, accepts = new[] { "x402" }, inbox = new { deliverTo = owner },
        });
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode, json.ToString());
        return (json.GetProperty("id").GetString()!, json.GetProperty("url").GetString()!, payTo);
    }

    [Fact]
    public async Task The_official_client_pays_while_smtp_is_down_and_the_message_is_delivered_once_when_it_returns_paid_once()
    {
        // The port is chosen now but nothing listens on it yet: SMTP is down.
        await using var smtp = new TestSmtpServer();
        await using var gateway = await GatewayAsync(smtp.Port);
        var owner = $"owner-{Guid.NewGuid():N}@example.com";
        var (_, url, payTo) = await InboxAsync(gateway, owner);
        var payerBefore = await chain.BalanceAsync(chain.Payer);

        var output = await PeerProcess.RunNodeAsync(new Dictionary<string, string>
        {
            ["PAYER_KEY"] = chain.PayerKeyHex,
            ["TOKEN"] = chain.Token.ToString(),
            ["NETWORK"] = ChainFixture.V2Network,
            ["BODY"] = JsonSerializer.Serialize(new { subject = "Paid hello", body = "Worth 5 cents", replyTo = "agent@example.org" }),
        }, "pay-v2-post.mjs", url);
        var result = JsonDocument.Parse(output.Trim().Split('\n').Last()).RootElement;

        Assert.Equal(202, result.GetProperty("status").GetInt32());
        Assert.Equal([402, 202], result.GetProperty("statuses").EnumerateArray().Select(e => e.GetInt32()));
        Assert.True(result.GetProperty("paymentResponse").GetProperty("success").GetBoolean());
        var accepted = JsonDocument.Parse(result.GetProperty("body").GetString()!).RootElement;
        var receipt = accepted.GetProperty("receipt").GetString()!;
        Assert.Equal(50_000, await chain.BalanceAsync(Core.Evm.EvmAddress.Parse(payTo)));

        // Tried against the dead port, and still queued.
        var messages = gateway.Services.GetRequiredService<IInboxMessageStore>();
        while ((await messages.GetAsync(receipt, default))!.Attempts < 2)
        {
            await Task.Delay(20);
        }
        Assert.Equal(MessageStatuses.Queued, (await new HttpClient().GetFromJsonAsync<JsonElement>(accepted.GetProperty("receiptUrl").GetString())).GetProperty("status").GetString());

        await smtp.StartAsync();
        await WaitForStatusAsync(accepted.GetProperty("receiptUrl").GetString()!, MessageStatuses.Delivered);
        var mail = Assert.Single(smtp.To(owner));
        Assert.Equal("Paid hello", mail.Subject);
        Assert.Equal("0.05 USD (x402)", mail.Headers["X-Inbox-Paid"]);
        Assert.Equal(payerBefore - 50_000, await chain.BalanceAsync(chain.Payer));
        Assert.Equal(1, await chain.Rpc.TransferLogCountAsync(chain.Token, Core.Evm.EvmAddress.Parse(payTo)));
    }

    [Fact]
    public async Task A_message_the_relay_refuses_for_good_fails_and_its_on_chain_payment_is_recorded_as_owed()
    {
        await using var smtp = await TestSmtpServer.StartAsync();
        await using var gateway = await GatewayAsync(smtp.Port);
        var owner = $"refuse-{Guid.NewGuid():N}@example.com";
        var (_, url, payTo) = await InboxAsync(gateway, owner);
        var message = new { subject = "Refused", body = "Paid but refused" };
        using var challenge = await SendAsync(url, message);
        var header = new PaymentBuilder { Requirement = PaymentBuilder.RequirementFrom(challenge), PayerKey = chain.PayerKey }.V2Header();

        using var paid = await SendAsync(url, message, headers: [new("PAYMENT-SIGNATURE", header)]);
        Assert.Equal(202, (int)paid.StatusCode);
        var failed = await WaitForRefundAsync((await paid.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("receiptUrl").GetString()!);
        Assert.True(failed.GetProperty("refundOwed").GetBoolean());
        Assert.False(failed.GetProperty("refunded").GetBoolean());
        Assert.Equal(1, smtp.Attempts[owner]);
        Assert.Equal(50_000, await chain.BalanceAsync(Core.Evm.EvmAddress.Parse(payTo)));
    }

    [Fact]
    public async Task One_payment_sent_200_times_at_once_stores_and_mails_one_message_and_settles_once()
    {
        await using var smtp = await TestSmtpServer.StartAsync();
        await using var gateway = await GatewayAsync(smtp.Port);
        var owner = $"owner-{Guid.NewGuid():N}@example.com";
        var (_, url, payTo) = await InboxAsync(gateway, owner);
        var message = new { subject = "Once", body = "One payment" };
        using var challenge = await SendAsync(url, message);
        Assert.Equal(402, (int)challenge.StatusCode);
        var header = new PaymentBuilder { Requirement = PaymentBuilder.RequirementFrom(challenge), PayerKey = chain.PayerKey }.V2Header();

        using var start = new ManualResetEventSlim();
        var sends = Enumerable.Range(0, 200).Select(_ => Task.Run(async () =>
        {
            start.Wait();
            using var response = await SendAsync(url, message, headers: [new("PAYMENT-SIGNATURE", header)]);
            return (Status: (int)response.StatusCode, Receipt: response.StatusCode == System.Net.HttpStatusCode.Accepted
                ? (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("receiptUrl").GetString() : null);
        })).ToList();
        start.Set();
        var results = await Task.WhenAll(sends);

        Assert.Equal(1, results.Count(r => r.Status == 202));
        Assert.DoesNotContain(results, r => r.Status is 500 or 200);
        await WaitForStatusAsync(results.Single(r => r.Status == 202).Receipt!, MessageStatuses.Delivered);
        Assert.Single(smtp.To(owner));
        Assert.Equal(1, await chain.Rpc.TransferLogCountAsync(chain.Token, Core.Evm.EvmAddress.Parse(payTo)));
        Assert.Equal(50_000, await chain.BalanceAsync(Core.Evm.EvmAddress.Parse(payTo)));
    }
}
