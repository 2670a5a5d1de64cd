using System.Net.Http.Json;
using System.Text.Json;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Deployment;

/// <summary>Settings the binder would silently misread stop the start, naming the setting and the form that works.</summary>
public sealed class ConfigurationTests
{
    [Theory]
    [InlineData("X402:AllowedUpstreamRanges", "127.0.0.0/8", "X402__AllowedUpstreamRanges__0")]
    [InlineData("X402:DefaultNetworks", "eip155:8453", "X402__DefaultNetworks__0")]
    [InlineData("X402:Settlement:FacilitatorOrganisations", "org_partner", "X402__Settlement__FacilitatorOrganisations__0")]
    [InlineData("X402:Kyc:TrustedAttestationSigners", "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", "X402__Kyc__TrustedAttestationSigners__0")]
    public async Task A_list_set_as_one_value_fails_the_start_and_names_the_indexed_form(string setting, string value, string indexed)
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => StartAsync(setting, value));
        Assert.Contains(setting, error.Message, StringComparison.Ordinal);
        Assert.Contains(indexed, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_number_that_is_not_one_fails_the_start_and_names_the_setting()
    {
        var error = await Assert.ThrowsAnyAsync<InvalidOperationException>(() => StartAsync("X402:UpstreamTimeoutSeconds", "thirty"));
        Assert.Contains("X402:UpstreamTimeoutSeconds", error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("X402:UpstreamTimeoutSeconds", "0")]
    [InlineData("X402:Settlement:ReceiptTimeoutSeconds", "-5")]
    [InlineData("X402:Settlement:WorkerBatchSize", "0")]
    public async Task A_timeout_or_size_that_is_not_positive_fails_the_start_and_names_the_setting(string setting, string value)
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => StartAsync(setting, value));
        Assert.Contains($"{setting} must be greater than 0", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("X402:Settlement:MaxTransferGas", "0")]
    [InlineData("X402:Settlement:MaxContractWalletTransferGas", "20999")]
    [InlineData("X402:Settlement:MaxPermit2SettleGas", "-1")]
    public async Task A_settlement_gas_ceiling_below_a_plain_transaction_fails_the_start(string setting, string value)
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => StartAsync(setting, value));
        Assert.Contains($"{setting} must be at least 21000 gas", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("X402:Settlement:MaxBatchTransfers", "0", "X402:Settlement:MaxBatchTransfers must be from 1 (no batching) to 256")]
    [InlineData("X402:Settlement:MaxBatchTransfers", "257", "X402:Settlement:MaxBatchTransfers must be from 1 (no batching) to 256")]
    [InlineData("X402:Settlement:MaxBatchGas", "149999", "X402:Settlement:MaxBatchGas must be at least MaxTransferGas")]
    [InlineData("X402:Settlement:BatchGatherMilliseconds", "-1", "X402:Settlement:BatchGatherMilliseconds must be from 0 (never wait) to 1000")]
    [InlineData("X402:Settlement:BatchGatherMilliseconds", "1001", "X402:Settlement:BatchGatherMilliseconds must be from 0 (never wait) to 1000")]
    public async Task A_batch_setting_out_of_range_fails_the_start(string setting, string value, string message)
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => StartAsync(setting, value));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("3")]
    public async Task A_webhook_retention_shorter_than_a_week_fails_the_start(string value)
    {
        // Shorter than a delivery's retries or an event's re-raise, a purge would let the same event be delivered again.
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(
            () => StartAsync("X402:OutboundWebhooks:RetentionDays", value));
        Assert.Contains("X402:OutboundWebhooks:RetentionDays must be at least 7, or 0", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("10000")]
    [InlineData("1000000000")]
    public async Task A_deferred_bound_out_of_range_fails_the_start_instead_of_silently_meaning_no_bound(string value)
    {
        // 10,000 and above used to mean "no bound" unsaid; no bound is now said with 0.
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(
            () => StartAsync("X402:Settlement:DeferredMaxInFlightPerPayer", value));
        Assert.Contains("X402:Settlement:DeferredMaxInFlightPerPayer must be from 1 to 9999, or 0 for no bound", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_indexed_form_of_a_list_applies()
    {
        // GatewayHost sets X402:AllowedUpstreamRanges:0 = 127.0.0.0/8; a loopback upstream is accepted only because of it.
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?> { ["X402:FacilitatorUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}" });
        using var created = await gateway.Admin.PostAsJsonAsync("/api/links", new
        {
            upstream = "http://127.0.0.1:9/api", price = "0.01", payTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
        });
        Assert.Equal(201, (int)created.StatusCode);
        Assert.StartsWith("lnk_", (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_start_up_summary_says_what_the_instance_does_with_money_and_no_secret()
    {
        const string gasKey = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
        const string rpcKey = "k3y_in_the_rpc_path_0123456789";
        const string stripeSecret = "sk_test_summary_secret_0123456789";
        var rpcPort = PeerProcess.FreePort();
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["X402:FacilitatorUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}",
            ["X402:Networks:0:ChainId"] = "84532",
            ["X402:Networks:0:RpcUrl"] = $"http://127.0.0.1:{rpcPort}/v2/{rpcKey}",
            ["X402:Settlement:GasWalletKey"] = gasKey,
            ["X402:Stripe:SecretKey"] = stripeSecret,
        });

        var summary = Assert.Single(gateway.Logs.Entries, e => e.Message.StartsWith("X402Serverless starting", StringComparison.Ordinal)).Message;
        Assert.Contains("storage: sqlite", summary, StringComparison.Ordinal);
        Assert.Contains($"network eip155:84532 (base-sepolia): token 0x036CbD53842c5426634e7929541eC2318f3dCF7e \"USDC\" v2, rpc http://127.0.0.1:{rpcPort}", summary, StringComparison.Ordinal);
        Assert.Contains("network eip155:8453 (base)", summary, StringComparison.Ordinal);
        Assert.Contains("built-in facilitator on, gas wallet 0x70997970C51812dc3A010C7d01b50e0d17dc79C8", summary, StringComparison.Ordinal);
        Assert.Contains("card top-ups off", summary, StringComparison.Ordinal); // a secret key without its webhook secret is not a working feature
        Assert.DoesNotContain(gasKey[2..], summary, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(rpcKey, summary, StringComparison.Ordinal);
        Assert.DoesNotContain(stripeSecret, summary, StringComparison.Ordinal);
    }

    private static async Task StartAsync(string setting, string value)
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["X402:FacilitatorUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}",
            [setting] = value,
        });
    }
}
