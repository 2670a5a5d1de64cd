using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Networks;
using X402Serverless.Handler.Facilitator;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.EndToEnd.PaidLinkClient;

namespace X402Serverless.Tests.EndToEnd;

/// <summary>The facilitator service spends the operator's gas: only allowed keys, only real payments, at a bounded rate, metered per key.</summary>
[Collection(ChainGroup.Name)]
public sealed class FacilitatorGasTapTests(ChainFixture chain)
{
    [Fact]
    public async Task Another_organisations_key_is_refused_with_403_and_nothing_is_settled()
    {
        var (key, _) = await NewOrganisationAsync(chain.Gateway);
        using var other = chain.Gateway.Client(key);
        var link = await chain.CreateLinkAsync();
        var body = Body(new PaymentBuilder { Requirement = await RequirementAsync(link.Url), PayerKey = chain.PayerKey });

        foreach (var route in new[] { "/facilitator/verify", "/facilitator/settle" })
        {
            using var response = await other.PostAsync(route, Json(body));
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Equal("facilitator_not_allowed", await ProblemCodeAsync(response));
        }
        Assert.Equal(0, await chain.BalanceAsync(link.PayTo));
        using var usage = await other.GetAsync("/api/facilitator/usage");
        Assert.Equal(HttpStatusCode.Forbidden, usage.StatusCode);
    }

    [Fact]
    public async Task A_zero_value_transfer_or_a_window_past_max_timeout_is_refused_with_a_reason_and_costs_no_gas()
    {
        using var operatorKey = await NewOperatorKeyAsync();
        var link = await chain.CreateLinkAsync();
        var requirement = await RequirementAsync(link.Url);
        var free = JsonNode.Parse(requirement.ToJsonString())!.AsObject();
        free["amount"] = "0";
        var zero = new PaymentBuilder { Requirement = free, PayerKey = chain.PayerKey, Value = 0, To = chain.Payer.ToString() };
        free["payTo"] = chain.Payer.ToString();
        var lasting = JsonNode.Parse(requirement.ToJsonString())!.AsObject();
        lasting["maxTimeoutSeconds"] = 999_999_999;
        var forever = new PaymentBuilder { Requirement = lasting, PayerKey = chain.PayerKey, ValidBefore = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 50L * 365 * 86_400 };

        foreach (var (payment, reason) in new[] { (zero, "invalid_exact_evm_authorization_value"), (forever, "invalid_exact_evm_payload_authorization_valid_before") })
        {
            using var verify = await operatorKey.Client.PostAsync("/facilitator/verify", Json(Body(payment)));
            var verdict = await verify.Content.ReadFromJsonAsync<JsonElement>();
            Assert.False(verdict.GetProperty("isValid").GetBoolean());
            Assert.Equal(reason, verdict.GetProperty("invalidReason").GetString());

            using var settle = await operatorKey.Client.PostAsync("/facilitator/settle", Json(Body(payment)));
            var outcome = await settle.Content.ReadFromJsonAsync<JsonElement>();
            Assert.False(outcome.GetProperty("success").GetBoolean());
            Assert.Equal(reason, outcome.GetProperty("errorReason").GetString());
            Assert.Equal("", outcome.GetProperty("transaction").GetString());
        }
        Assert.Empty(await UsageOfAsync(operatorKey.Id));
    }

    [Fact]
    public async Task A_real_settlement_records_the_gas_its_transaction_used_for_the_key_that_asked()
    {
        using var operatorKey = await NewOperatorKeyAsync();
        var link = await chain.CreateLinkAsync();
        var body = Body(new PaymentBuilder { Requirement = await RequirementAsync(link.Url), PayerKey = chain.PayerKey });

        using var settle = await operatorKey.Client.PostAsync("/facilitator/settle", Json(body));
        var outcome = await settle.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(outcome.GetProperty("success").GetBoolean(), outcome.ToString());
        var tx = outcome.GetProperty("transaction").GetString()!;
        Assert.Equal(10_000, await chain.BalanceAsync(link.PayTo));

        var receipt = await chain.Rpc.CallAsync("eth_getTransactionReceipt", tx);
        var gasUsed = Quantity(receipt, "gasUsed");
        var wei = gasUsed * Quantity(receipt, "effectiveGasPrice");
        Assert.True(wei > 0);
        var row = Assert.Single(await UsageOfAsync(operatorKey.Id));
        Assert.Equal(1, row.GetProperty("settlements").GetInt64());
        Assert.Equal((long)gasUsed, row.GetProperty("gasUsed").GetInt64());
        Assert.Equal(wei.ToString(CultureInfo.InvariantCulture), row.GetProperty("gasWei").GetString());

        // The same authorization again reports its transaction but spends (and records) no more gas.
        using var again = await operatorKey.Client.PostAsync("/facilitator/settle", Json(body));
        Assert.Equal(tx, (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("transaction").GetString());
        Assert.Equal(1, Assert.Single(await UsageOfAsync(operatorKey.Id)).GetProperty("settlements").GetInt64());
    }

    [Fact]
    public async Task A_transaction_that_settled_several_authorizations_is_metered_as_an_even_share_for_each_settlement()
    {
        using var operatorKey = await NewOperatorKeyAsync();
        var link = await chain.CreateLinkAsync();
        var domain = new Eip712Domain("USD Coin", "2", 84532, chain.Token);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var calls = Enumerable.Range(0, 3).Select(_ =>
        {
            var authorization = new TransferAuthorization(chain.Payer, link.PayTo, 10_000, 0, now + 3600, RandomNumberGenerator.GetBytes(32));
            return (chain.Token, Eip3009Calls.TransferWithAuthorization(authorization, TransferAuthorizationHasher.Sign(domain, authorization, chain.PayerKey)));
        }).ToList();
        // Three authorizations in one Multicall3 transaction, as the built-in facilitator batches them.
        var batch = (await chain.Rpc.CallAsync("eth_sendTransaction", new
        {
            from = "0x90f79bf6eb2c4f870365e785982e1f101e93b906", to = Multicall3Calls.Canonical.ToLowerHex(), data = Hex.Encode(Multicall3Calls.Aggregate3AllowingFailure(calls)),
        })).GetString()!;
        JsonElement receipt;
        while ((receipt = await chain.Rpc.CallAsync("eth_getTransactionReceipt", batch)).ValueKind == JsonValueKind.Null)
        {
            await Task.Delay(20);
        }
        Assert.Equal(30_000, await chain.BalanceAsync(link.PayTo));
        var gasUsed = Quantity(receipt, "gasUsed");

        // Each of the three settlements that rode in it is metered (here all for one key): a third of its gas each, not all of it three times.
        var meter = chain.Gateway.Services.GetRequiredService<FacilitatorGasMeter>();
        Assert.True(chain.Gateway.Services.GetRequiredService<NetworkRegistry>().TryGet("eip155:84532", out var network));
        for (var i = 0; i < 3; i++)
        {
            await meter.RecordAsync(new FacilitatorCaller("org_operator", operatorKey.Id), network, batch, CancellationToken.None);
        }
        var row = Assert.Single(await UsageOfAsync(operatorKey.Id));
        Assert.Equal(3, row.GetProperty("settlements").GetInt64());
        Assert.Equal((long)(gasUsed / 3 * 3), row.GetProperty("gasUsed").GetInt64());
        Assert.Equal((gasUsed / 3 * Quantity(receipt, "effectiveGasPrice") * 3).ToString(CultureInfo.InvariantCulture), row.GetProperty("gasWei").GetString());
    }

    [Fact]
    public async Task Each_key_has_its_own_rate_and_past_it_gets_429_with_retry_after()
    {
        var settings = chain.GatewaySettings(chain.FacilitatorUrl);
        settings["X402:Settlement:FacilitatorRequestsPerMinute"] = "2";
        await using var gateway = await GatewayHost.StartAsync(settings);
        var link = await chain.CreateLinkAsync(gateway: gateway);
        var body = Body(new PaymentBuilder { Requirement = await RequirementAsync(link.Url), PayerKey = chain.PayerKey });

        for (var i = 0; i < 2; i++)
        {
            using var admitted = await gateway.Admin.PostAsync("/facilitator/verify", Json(body));
            Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
            Assert.True((await admitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("isValid").GetBoolean());
        }
        using var limited = await gateway.Admin.PostAsync("/facilitator/settle", Json(body));
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("rate_limited", await ProblemCodeAsync(limited));
        Assert.InRange(limited.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 60);
        Assert.Equal(0, await chain.BalanceAsync(link.PayTo));

        // Another key of the operator is not held back by the first one's use.
        using var created = await gateway.Admin.PostAsJsonAsync("/api/keys", new { facilitator = true });
        using var second = gateway.Client((await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString());
        using var own = await second.PostAsync("/facilitator/verify", Json(body));
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
    }

    private static JsonObject Body(PaymentBuilder payment) => new()
    {
        ["x402Version"] = 2,
        ["paymentPayload"] = JsonNode.Parse(Convert.FromBase64String(payment.V2Header())),
        ["paymentRequirements"] = JsonNode.Parse(payment.Requirement.ToJsonString()),
    };

    private static StringContent Json(JsonObject body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");

    private static BigInteger Quantity(JsonElement receipt, string name) =>
        BigInteger.Parse("0" + receipt.GetProperty(name).GetString()![2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);

    private static async Task<(string Key, string Id)> NewOrganisationAsync(GatewayHost gateway)
    {
        using var response = await gateway.Admin.PostAsJsonAsync("/api/organisations", new { name = $"Org {Guid.NewGuid():N}" });
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (json.GetProperty("key").GetString()!, json.GetProperty("id").GetString()!);
    }

    private async Task<OperatorKey> NewOperatorKeyAsync()
    {
        using var response = await chain.Gateway.Admin.PostAsJsonAsync("/api/keys", new { facilitator = true });
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        return new OperatorKey(json.GetProperty("id").GetString()!, chain.Gateway.Client(json.GetProperty("key").GetString()));
    }

    private async Task<List<JsonElement>> UsageOfAsync(string keyId)
    {
        var usage = await chain.Gateway.Admin.GetFromJsonAsync<JsonElement>("/api/facilitator/usage?days=2");
        return usage.GetProperty("items").EnumerateArray().Where(r => r.GetProperty("keyId").GetString() == keyId).ToList();
    }

    private sealed record OperatorKey(string Id, HttpClient Client) : IDisposable
    {
        public void Dispose() => Client.Dispose();
    }
}
