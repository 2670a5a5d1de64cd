using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using X402Serverless.Core.Crypto;
using X402Serverless.Tests.EndToEnd;
using X402Serverless.Tests.Support;
using Xunit.Abstractions;
using static X402Serverless.Tests.EndToEnd.PaidLinkClient;

namespace X402Serverless.Tests.Drills;

/// <summary>Drill: the gas wallet runs dry. Settlement waits with an alert, nobody is charged for withheld content, nothing crashes.</summary>
[Collection(ChainGroup.Name)]
public sealed class GasWalletDrill(ChainFixture chain, ITestOutputHelper output)
{
    [Fact]
    public async Task An_empty_gas_wallet_is_a_clear_waiting_state_with_an_alert_and_settlement_resumes_when_funded()
    {
        var emptyKey = Hex.Encode(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var settings = chain.GatewaySettings(chain.FacilitatorUrl);
        settings["X402:Settlement:GasWalletKey"] = emptyKey;
        await using var gateway = await GatewayHost.StartAsync(settings);
        var deferred = await chain.CreateLinkAsync(gateway: gateway, settlement: "deferred", facilitator: "builtin", deferredPayers: "any");
        var sync = await chain.CreateLinkAsync(gateway: gateway, settlement: "sync", facilitator: "builtin");
        var payerBefore = await chain.BalanceAsync(chain.Payer);

        // Sync: the content is withheld and the payer keeps the money.
        using var refused = await SendAsync(sync.Url, new PaymentBuilder { Requirement = await RequirementAsync(sync.Url), PayerKey = chain.PayerKey }.V2Header());
        Assert.Equal(503, (int)refused.StatusCode);
        Assert.Equal("gas_wallet_underfunded", await ProblemCodeAsync(refused));
        var syncPayments = await gateway.Admin.GetFromJsonAsync<JsonElement>($"/api/payments?linkId={sync.Id}");
        Assert.Equal(0, syncPayments.GetProperty("items").GetArrayLength()); // released, not charged

        // Deferred: served, then the job waits in a visible state.
        using var served = await SendAsync(deferred.Url, new PaymentBuilder { Requirement = await RequirementAsync(deferred.Url), PayerKey = chain.PayerKey }.V2Header());
        Assert.Equal(200, (int)served.StatusCode);
        var id = served.Headers.GetValues("X-Payment-Id").Single();
        var waiting = await PaymentsApiClient.WaitUntilAsync(gateway, id,
            p => p.GetProperty("attempts").GetInt32() >= 2 && p.GetProperty("lastError").ValueKind == JsonValueKind.String, TimeSpan.FromSeconds(30));
        Assert.Equal("pending", waiting.GetProperty("status").GetString());
        Assert.Equal("gas_wallet_underfunded", waiting.GetProperty("lastError").GetString());
        var alerts = gateway.Logs.Entries.Count(e => e.Level == LogLevel.Critical && e.Message.Contains("ALERT", StringComparison.Ordinal));
        Assert.Equal(1, alerts); // alerted once, not once per retry
        Assert.DoesNotContain(gateway.Logs.Entries, e => e.Message.Contains(emptyKey[2..], StringComparison.OrdinalIgnoreCase));
        using (var alive = await gateway.Client().GetAsync("/"))
        {
            Assert.True(alive.IsSuccessStatusCode);
        }
        Assert.Equal(payerBefore, await chain.BalanceAsync(chain.Payer));

        await chain.Rpc.CallAsync("anvil_setBalance", Secp256k1.AddressOf(Hex.Decode(emptyKey)).ToLowerHex(), "0xDE0B6B3A7640000");
        var settled = await PaymentsApiClient.WaitForEndAsync(gateway, id, TimeSpan.FromSeconds(20));
        output.WriteLine($"gas wallet drill: {waiting.GetProperty("attempts").GetInt32()} attempts while empty, {alerts} alert; after funding: {settled.GetProperty("status").GetString()}");
        Assert.Equal("settled", settled.GetProperty("status").GetString());
        Assert.Equal(10_000, await chain.BalanceAsync(deferred.PayTo));
    }
}
