using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.AzureStorage;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Ports;
using X402Serverless.Tests.Credits;
using X402Serverless.Tests.Support;
using X402Serverless.Core.Money;

namespace X402Serverless.Tests.Stores;

/// <summary>The whole gateway on Table Storage (Azurite), as configured in Azure: X402:Storage:Kind = table.</summary>
public sealed class TableModeGatewayTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Links_payers_and_credit_paid_calls_work_end_to_end_on_table_storage()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["X402:FacilitatorUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}",
            ["X402:Storage:Kind"] = "table",
            ["X402:Storage:TableEndpoint"] = azurite.Endpoint,
            ["X402:Storage:AccountName"] = "devstoreaccount1",
            ["X402:Storage:AccountKey"] = AzuriteFixture.AccountKey,
            ["X402:Storage:TablePrefix"] = AzuriteFixture.UniqueTable("g"),
        });
        Assert.IsType<TableLedger>(gateway.Services.GetRequiredService<ILedger>());

        var path = $"/ok/{Guid.NewGuid():N}";
        var (_, url) = await gateway.CreateLinkAsync(new
        {
            upstream = upstream.BaseUrl + path, price = "0.25", payTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", accepts = new[] { "credits", "x402" },
        });
        using var unpaid = await gateway.Client().GetAsync(new Uri(url).PathAndQuery);
        Assert.Equal(402, (int)unpaid.StatusCode);

        var (payerId, key, _) = await CreditsFixture.NewPayerAsync(gateway.Admin, new { name = "Table payer" });
        await gateway.Services.GetRequiredService<ILedger>().PostAsync(
            LedgerEntry.Transfer("fund-" + payerId, "topup", Accounts.CardClearing, Accounts.Credits(payerId), Usd.FromMicros(500_000)), [], default);

        using (var paid = await CreditsFixture.CallAsync(url, key))
        {
            Assert.Equal(200, (int)paid.StatusCode);
            Assert.Equal("0.25", paid.Headers.GetValues("X-Charged").Single());
        }
        using (var paid = await CreditsFixture.CallAsync(url, key))
        {
            Assert.Equal(200, (int)paid.StatusCode);
        }
        using (var broke = await CreditsFixture.CallAsync(url, key))
        {
            Assert.Equal(402, (int)broke.StatusCode);
        }
        using var me = gateway.Client(key);
        var account = await me.GetFromJsonAsync<JsonElement>("/api/me");
        Assert.Equal("0.00", account.GetProperty("credits").GetString());
        Assert.Equal(2, upstream.Hits(path));
        var trial = await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/ledger/trial-balance");
        Assert.Equal("0.00", trial.GetProperty("total").GetString());
        Assert.True(trial.GetProperty("consistent").GetBoolean());
    }

    [Fact]
    public async Task Listed_links_reach_the_catalogue_and_discovery_on_table_storage()
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["X402:FacilitatorUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}",
            ["X402:Storage:Kind"] = "table",
            ["X402:Storage:TableEndpoint"] = azurite.Endpoint,
            ["X402:Storage:AccountName"] = "devstoreaccount1",
            ["X402:Storage:AccountKey"] = AzuriteFixture.AccountKey,
            ["X402:Storage:TablePrefix"] = AzuriteFixture.UniqueTable("m"),
        });
        using var created = await gateway.Admin.PostAsJsonAsync("/api/organisations", new { name = "Table Provider" });
        using var api = gateway.Client((await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString());
        var (id, url) = await gateway.CreateLinkAsync(new
        {
            upstream = "http://127.0.0.1:9/t", price = "0.04", payTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", name = "Table API",
            listed = true, tags = new[] { "tables" }, inputSchema = new { type = "object" },
        }, api);
        var (hidden, _) = await gateway.CreateLinkAsync(new { upstream = "http://127.0.0.1:9/h", price = "0.04", payTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C" }, api);

        using var http = gateway.Client();
        var discovery = await http.GetFromJsonAsync<JsonElement>("/discovery/resources");
        var item = Assert.Single(discovery.GetProperty("items").EnumerateArray());
        Assert.Equal(url, item.GetProperty("resource").GetString());
        Assert.Equal("Table Provider", item.GetProperty("metadata").GetProperty("provider").GetString());
        Assert.Equal("object", item.GetProperty("metadata").GetProperty("inputSchema").GetProperty("type").GetString());
        Assert.DoesNotContain(hidden, await http.GetStringAsync("/openapi.json"), StringComparison.Ordinal);

        using (var unlist = await api.PatchAsJsonAsync($"/api/links/{id}", new { listed = false }))
        {
            Assert.True(unlist.IsSuccessStatusCode);
        }
        Assert.Equal(0, (await http.GetFromJsonAsync<JsonElement>("/discovery/resources")).GetProperty("pagination").GetProperty("total").GetInt32());
    }
}
