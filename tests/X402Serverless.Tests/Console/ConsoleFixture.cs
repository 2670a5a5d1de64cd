using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using X402Serverless.Tests.Support;

// Not "...Tests.Console": a namespace named Console would shadow System.Console for every test.
namespace X402Serverless.Tests.ProviderConsole;

/// <summary>One gateway (no chain behind it: the console needs none) shared by a console test class.</summary>
public class ConsoleFixture : IAsyncLifetime
{
    public const string PayTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";

    internal GatewayHost Gateway { get; private set; } = null!;

    public virtual async Task InitializeAsync() =>
        Gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["X402:FacilitatorUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}",
        });

    public virtual async Task DisposeAsync() => await Gateway.DisposeAsync();

    /// <summary>A new organisation made by the operator: its management key and an API client acting for it.</summary>
    internal async Task<(string Key, HttpClient Api)> NewOrganisationAsync(string name)
    {
        using var response = await Gateway.Admin.PostAsJsonAsync("/api/organisations", new { name });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var key = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
        return (key, Gateway.Client(key));
    }

    internal Task<(string Id, string Url)> CreateLinkAsync(HttpClient api, string name, string price = "0.01") =>
        Gateway.CreateLinkAsync(new { upstream = "http://127.0.0.1:9/api", price, payTo = PayTo, name }, api);

    /// <summary>The atomic amount the paid link asks for in its 402 (v2 PAYMENT-REQUIRED header).</summary>
    internal async Task<string> AskedAmountAsync(string linkId)
    {
        using var http = Gateway.Client();
        using var response = await http.GetAsync($"/l/{linkId}");
        Assert.Equal(HttpStatusCode.PaymentRequired, response.StatusCode);
        var required = JsonDocument.Parse(Convert.FromBase64String(response.Headers.GetValues("PAYMENT-REQUIRED").Single())).RootElement;
        return required.GetProperty("accepts")[0].GetProperty("amount").GetString()!;
    }
}

/// <summary>The gateway plus one headless browser session for the class.</summary>
public sealed class ConsoleBrowserFixture : ConsoleFixture
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
