using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Ports;
using X402Serverless.Tests.Support;
using X402Serverless.Core.Money;

namespace X402Serverless.Tests.Forwarding;

/// <summary>
/// A gateway whose paid links may also be served from LinksOrigin (links.test, reached by Host header), the test
/// upstream, and a funded payer: credit-paid calls need no chain. The browser is started only by the browser tests.
/// </summary>
public class IsolationFixture : IAsyncLifetime
{
    public const string LinksHost = "links.test";

    internal GatewayHost Gateway { get; private set; } = null!;

    internal TestUpstream Upstream { get; private set; } = null!;

    internal string PayerKey { get; private set; } = "";

    public virtual async Task InitializeAsync()
    {
        Upstream = await TestUpstream.StartAsync();
        Gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["X402:FacilitatorUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}",
            ["X402:LinksOrigin"] = $"http://{LinksHost}",
        });
        using var response = await Gateway.Admin.PostAsJsonAsync("/api/payers", new { name = "Browser payer" });
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        PayerKey = json.GetProperty("key").GetString()!;
        var payerId = json.GetProperty("payer").GetProperty("id").GetString()!;
        await Gateway.Services.GetRequiredService<ILedger>().PostAsync(
            LedgerEntry.Transfer($"test-fund:{Guid.NewGuid():N}", "topup", Accounts.CardClearing, Accounts.Credits(payerId), Usd.FromMicros(1_000_000)), [], default);
    }

    public virtual async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Upstream.DisposeAsync();
    }

    /// <summary>A credits link on the upstream's <paramref name="kind"/> route: (id, url on the gateway's own origin, upstream path).</summary>
    internal async Task<(string Id, string Url, string Path)> NewLinkAsync(string kind)
    {
        var path = $"/{kind}/{Guid.NewGuid():N}";
        var (id, _) = await Gateway.CreateLinkAsync(new
        {
            upstream = Upstream.BaseUrl + path, price = "0.01", payTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", accepts = new[] { "credits" },
        });
        return (id, $"{Gateway.BaseUrl}/l/{id}", path);
    }
}

/// <summary>The isolation gateway plus one headless Chromium.</summary>
public sealed class IsolationBrowserFixture : IsolationFixture
{
    internal WebDriver Browser { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Browser = await WebDriver.StartAsync();
    }

    public override async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }
        await base.DisposeAsync();
    }
}
