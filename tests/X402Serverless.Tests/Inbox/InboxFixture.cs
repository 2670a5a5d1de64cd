using Microsoft.AspNetCore.Builder;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;
using X402Serverless.Core.Ports;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Inbox;

/// <summary>A gateway (no chain: balances pay) delivering inbox messages to a real SMTP server on loopback, with fast retries.</summary>
public sealed class InboxFixture : IAsyncLifetime
{
    internal const string PayTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";

    internal GatewayHost Gateway { get; private set; } = null!;

    internal TestSmtpServer Smtp { get; private set; } = null!;

    internal ILedger Ledger => Gateway.Services.GetRequiredService<ILedger>();

    internal IInboxMessageStore Messages => Gateway.Services.GetRequiredService<IInboxMessageStore>();

    public async Task InitializeAsync()
    {
        Smtp = await TestSmtpServer.StartAsync();
        Gateway = await StartGatewayAsync(Smtp.Port);
    }

    /// <param name="configure">Runs on the builder before the gateway registers itself (see <see cref="GatewayHost.StartAsync"/>).</param>
    internal static Task<GatewayHost> StartGatewayAsync(int smtpPort, IDictionary<string, string?>? extra = null, Action<WebApplicationBuilder>? configure = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["X402:FacilitatorUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}",
            ["X402:Networks:0:ChainId"] = "84532",
            ["X402:Networks:0:RpcUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}",
            ["X402:Credits:OperatorFeeBasisPoints"] = "100",
            ["X402:Inbox:SmtpHost"] = "127.0.0.1",
            ["X402:Inbox:SmtpPort"] = smtpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["X402:Inbox:SmtpSecurity"] = "none",
            ["X402:Inbox:From"] = "inbox@gateway.test",
            ["X402:Inbox:FirstRetrySeconds"] = "0.1",
            ["X402:Inbox:MaxRetrySeconds"] = "0.3",
            ["X402:Inbox:MaxAttempts"] = "200",
            ["X402:Inbox:PollSeconds"] = "0.05",
            ["X402:Inbox:SmtpTimeoutSeconds"] = "10",
        };
        foreach (var (k, v) in extra ?? new Dictionary<string, string?>())
        {
            settings[k] = v;
        }
        return GatewayHost.StartAsync(settings, configure);
    }

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Smtp.DisposeAsync();
    }

    internal async Task<HttpClient> NewOrganisationAsync(GatewayHost? gateway = null)
    {
        gateway ??= Gateway;
        using var response = await gateway.Admin.PostAsJsonAsync("/api/organisations", new { name = $"Org {Guid.NewGuid():N}" });
        return gateway.Client((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString());
    }

    internal static async Task<(string Id, string Key)> NewPayerAsync(HttpClient organisation)
    {
        using var response = await organisation.PostAsJsonAsync("/api/payers", new { name = "Sender" });
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (json.GetProperty("payer").GetProperty("id").GetString()!, json.GetProperty("key").GetString()!);
    }

    /// <summary>A new inbox link delivering to <paramref name="deliverTo"/>; its paid URL.</summary>
    internal static async Task<(string Id, string Url)> NewInboxAsync(HttpClient organisation, string deliverTo, string price = "0.25",
        string[]? accepts = null, object? inboxExtra = null)
    {
        var inbox = new Dictionary<string, object?> { ["deliverTo"] = deliverTo };
        foreach (var p in inboxExtra?.GetType().GetProperties() ?? [])
        {
            inbox[p.Name] = p.GetValue(inboxExtra);
        }
        using var response = await organisation.PostAsJsonAsync("/api/links", new Dictionary<string, object?>
        {
            ["name"] = "Write to me", ["price"] = price, ["payTo"] = PayTo, ["accepts"] = accepts ?? ["credits"], ["inbox"] = inbox,
        });
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException(json.ToString());
        }
        return (json.GetProperty("id").GetString()!, json.GetProperty("url").GetString()!);
    }

    internal Task FundAsync(string account, long micros) =>
        Ledger.PostAsync(LedgerEntry.Transfer($"test-fund:{Guid.NewGuid():N}", "topup", Accounts.CardClearing, account, Usd.FromMicros(micros)), [], default);

    internal static async Task<HttpResponseMessage> SendAsync(string url, object message, string? payerKey = null, IEnumerable<KeyValuePair<string, string>>? headers = null)
    {
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = JsonContent.Create(message) };
        if (payerKey is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", payerKey);
        }
        foreach (var (name, value) in headers ?? [])
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        return await client.SendAsync(request);
    }

    /// <summary>Reads the receipt until its status is <paramref name="status"/> (bounded: a delivery that never comes fails the test).</summary>
    internal static Task<JsonElement> WaitForStatusAsync(string receiptUrl, string status, TimeSpan? within = null) =>
        WaitForReceiptAsync(receiptUrl, r => r.GetProperty("status").GetString() == status, $"status '{status}'", within);

    /// <summary>A failed message once its refund is settled one way or the other (it is written just after "failed").</summary>
    internal static Task<JsonElement> WaitForRefundAsync(string receiptUrl) =>
        WaitForReceiptAsync(receiptUrl, r => r.GetProperty("status").GetString() == "failed"
            && (r.GetProperty("refunded").GetBoolean() || r.GetProperty("refundOwed").GetBoolean()), "failed and refund decided", null);

    private static async Task<JsonElement> WaitForReceiptAsync(string receiptUrl, Func<JsonElement, bool> done, string what, TimeSpan? within)
    {
        using var client = new HttpClient();
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(30));
        JsonElement last = default;
        while (DateTime.UtcNow < deadline)
        {
            last = await client.GetFromJsonAsync<JsonElement>(receiptUrl);
            if (done(last))
            {
                return last;
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"The receipt did not become {what}: {last}");
    }
}
