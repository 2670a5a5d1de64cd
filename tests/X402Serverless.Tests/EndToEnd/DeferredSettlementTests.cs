using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.EndToEnd.PaidLinkClient;

namespace X402Serverless.Tests.EndToEnd;

/// <summary>Deferred links answer as soon as the upstream does; the durable job settles afterwards.</summary>
[Collection(ChainGroup.Name)]
public sealed class DeferredSettlementTests(ChainFixture chain)
{
    [Theory]
    [InlineData("builtin")]
    [InlineData("remote")]
    public async Task A_deferred_payment_is_served_first_and_settled_by_the_job(string facilitator)
    {
        var link = await chain.CreateLinkAsync(settlement: "deferred", facilitator: facilitator, deferredPayers: "any");
        using var response = await SendAsync(link.Url, new PaymentBuilder { Requirement = await RequirementAsync(link.Url), PayerKey = chain.PayerKey }.V2Header());

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("deferred", response.Headers.GetValues("X-Payment-Settlement").Single());
        var id = response.Headers.GetValues("X-Payment-Id").Single();

        var payment = await PaymentsApiClient.WaitForEndAsync(chain.Gateway, id, TimeSpan.FromSeconds(30));
        Assert.Equal("settled", payment.GetProperty("status").GetString());
        Assert.Equal("deferred", payment.GetProperty("mode").GetString());
        Assert.Equal(facilitator, payment.GetProperty("facilitator").GetString());
        Assert.Equal(1, await chain.Rpc.ReceiptStatusAsync(payment.GetProperty("transaction").GetString()!));
        Assert.Equal(10_000, await chain.BalanceAsync(link.PayTo));
    }

    [Fact]
    public async Task A_backlog_larger_than_the_workers_slots_is_settled_side_by_side_each_payment_once()
    {
        var settings = chain.GatewaySettings(chain.FacilitatorUrl);
        settings["X402:Settlement:GasWalletKey"] = await chain.FundedWalletAsync();
        settings["X402:Settlement:WorkerBatchSize"] = "4";
        settings["X402:Settlement:DeferredMaxInFlightPerPayer"] = "100";
        await using var gateway = await GatewayHost.StartAsync(settings);
        var link = await chain.CreateLinkAsync(gateway: gateway, settlement: "deferred", facilitator: "builtin", deferredPayers: "any");
        var requirement = await RequirementAsync(link.Url);

        var responses = await Task.WhenAll(Enumerable.Range(0, 24).Select(_ =>
            SendAsync(link.Url, new PaymentBuilder { Requirement = requirement, PayerKey = chain.PayerKey }.V2Header())));
        Assert.All(responses, r => Assert.Equal(200, (int)r.StatusCode));
        var ids = responses.Select(r => r.Headers.GetValues("X-Payment-Id").Single()).ToList();
        foreach (var r in responses)
        {
            r.Dispose();
        }

        var transactions = new List<string>();
        foreach (var id in ids)
        {
            var payment = await PaymentsApiClient.WaitForEndAsync(gateway, id, TimeSpan.FromSeconds(60));
            Assert.Equal("settled", payment.GetProperty("status").GetString());
            transactions.Add(payment.GetProperty("transaction").GetString()!);
        }
        // Settlements sent side by side may share a Multicall3 batch transaction: the transactions recorded for them carry,
        // between them, exactly the 24 transfers to the link (each payment's record names a transaction with its transfer).
        var carried = 0;
        foreach (var transaction in transactions.Distinct(StringComparer.OrdinalIgnoreCase))
        {
            var receipt = await chain.Rpc.CallAsync("eth_getTransactionReceipt", transaction);
            var payToTopic = "0x" + link.PayTo.ToLowerHex()[2..].PadLeft(64, '0');
            carried += receipt.GetProperty("logs").EnumerateArray().Count(log =>
                log.GetProperty("topics").GetArrayLength() == 3
                && log.GetProperty("topics")[0].GetString() == "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
                && string.Equals(log.GetProperty("topics")[2].GetString(), payToTopic, StringComparison.OrdinalIgnoreCase));
        }
        Assert.Equal(24, carried);
        Assert.Equal(24, await chain.Rpc.TransferLogCountAsync(chain.Token, link.PayTo));
        Assert.Equal(24 * 10_000, await chain.BalanceAsync(link.PayTo));
    }

    [Fact]
    public async Task Parallel_calls_of_a_fresh_empty_wallet_get_no_more_than_the_bound_served_before_settlement()
    {
        // The attack: a new wallet with nothing in it, a link that serves any wallet first, and many calls at once,
        // each with a fresh authorization (signing costs nothing). Each call reads the wallet under its bound.
        await using var gateway = await BoundedGatewayAsync(bound: 3);
        var link = await chain.CreateLinkAsync(gateway: gateway, settlement: "deferred", facilitator: "builtin", deferredPayers: "any");
        var requirement = await RequirementAsync(link.Url);
        var emptyWallet = RandomNumberGenerator.GetBytes(32);

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ =>
            SendAsync(link.Url, new PaymentBuilder { Requirement = requirement, PayerKey = emptyWallet }.V2Header())));

        // Exactly the bound is served on credit; the rest wait for settlement, which finds no funds: their answers are
        // withheld (the upstream was called for them, its answer not passed on).
        var served = responses.Where(r => (int)r.StatusCode == 200).ToList();
        Assert.Equal(3, served.Count);
        Assert.All(served, r => Assert.Equal("deferred", r.Headers.GetValues("X-Payment-Settlement").Single()));
        foreach (var refused in responses.Except(served))
        {
            Assert.Equal("invalid_exact_evm_insufficient_balance", await ErrorOfAsync(refused));
        }
        Assert.Equal(3, (await PaymentsApiClient.ListAsync(gateway, link.Id, "pending")).Length);
        Assert.Equal(17, (await PaymentsApiClient.ListAsync(gateway, link.Id, "failed")).Length);
        foreach (var r in responses)
        {
            r.Dispose();
        }
    }

    [Fact]
    public async Task Parallel_calls_of_a_paying_wallet_past_the_bound_are_served_after_their_settlement()
    {
        await using var gateway = await BoundedGatewayAsync(bound: 2);
        var link = await chain.CreateLinkAsync(gateway: gateway, settlement: "deferred", facilitator: "builtin", deferredPayers: "any");
        var requirement = await RequirementAsync(link.Url);

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            SendAsync(link.Url, new PaymentBuilder { Requirement = requirement, PayerKey = chain.PayerKey }.V2Header())));

        Assert.All(responses, r => Assert.Equal(200, (int)r.StatusCode));
        var deferred = responses.Where(r => r.Headers.TryGetValues("X-Payment-Settlement", out var v) && v.Single() == "deferred").ToList();
        Assert.Equal(2, deferred.Count);
        foreach (var r in responses)
        {
            // A deferred answer's payment is still unsettled (no worker runs); every other answer came after its transfer.
            var payment = await PaymentsApiClient.GetAsync(gateway, r.Headers.GetValues("X-Payment-Id").Single());
            if (deferred.Contains(r))
            {
                Assert.Equal("pending", payment.GetProperty("status").GetString());
                Assert.Equal("deferred", payment.GetProperty("mode").GetString());
            }
            else
            {
                Assert.Equal("settled", payment.GetProperty("status").GetString());
                Assert.Equal("sync", payment.GetProperty("mode").GetString());
                Assert.Equal(1, await chain.Rpc.ReceiptStatusAsync(payment.GetProperty("transaction").GetString()!));
            }
            r.Dispose();
        }
        Assert.Equal(6 * 10_000, await chain.BalanceAsync(link.PayTo));
    }

    /// <summary>A gateway of its own with the per-wallet bound given and no settlement worker, so deferred payments stay unsettled.</summary>
    private async Task<GatewayHost> BoundedGatewayAsync(int bound)
    {
        var settings = chain.GatewaySettings(chain.FacilitatorUrl);
        settings["X402:Settlement:GasWalletKey"] = await chain.FundedWalletAsync();
        settings["X402:Settlement:DeferredMaxInFlightPerPayer"] = bound.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["X402:Settlement:RunWorker"] = "false";
        return await GatewayHost.StartAsync(settings);
    }

    [Fact]
    public async Task A_payer_whose_deferred_payment_failed_is_served_sync_next_time()
    {
        var link = await chain.CreateLinkAsync(settlement: "deferred", facilitator: "builtin", deferredPayers: "any");
        var brokeKey = RandomNumberGenerator.GetBytes(32);
        var requirement = await RequirementAsync(link.Url);

        // First call: served (deferred trusts the payer), then the job finds no funds.
        using var first = await SendAsync(link.Url, new PaymentBuilder { Requirement = requirement, PayerKey = brokeKey }.V2Header());
        Assert.Equal(200, (int)first.StatusCode);
        var failed = await PaymentsApiClient.WaitForEndAsync(chain.Gateway, first.Headers.GetValues("X-Payment-Id").Single(), TimeSpan.FromSeconds(30));
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        Assert.Equal("invalid_exact_evm_insufficient_balance", failed.GetProperty("failureReason").GetString());

        // Second call: the same payer now waits for settlement (sync), which fails, so the content is withheld.
        using var second = await SendAsync(link.Url, new PaymentBuilder { Requirement = requirement, PayerKey = brokeKey }.V2Header());
        Assert.Equal("invalid_exact_evm_insufficient_balance", await ErrorOfAsync(second));
        Assert.False(second.Headers.Contains("X-Payment-Settlement"));

        var failures = await chain.Gateway.Admin.GetFromJsonAsync<JsonElement>($"/api/payments?status=failed&linkId={link.Id}");
        Assert.Equal(2, failures.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task Payments_are_listed_per_organisation_with_their_settlement_state()
    {
        var link = await chain.CreateLinkAsync();
        using var paid = await SendAsync(link.Url, new PaymentBuilder { Requirement = await RequirementAsync(link.Url), PayerKey = chain.PayerKey }.V2Header());
        var id = paid.Headers.GetValues("X-Payment-Id").Single();

        var listed = await chain.Gateway.Admin.GetFromJsonAsync<JsonElement>($"/api/payments?linkId={link.Id}");
        var item = Assert.Single(listed.GetProperty("items").EnumerateArray());
        Assert.Equal(id, item.GetProperty("id").GetString());
        Assert.Equal("settled", item.GetProperty("status").GetString());
        Assert.Equal("10000", item.GetProperty("amount").GetString());
        Assert.Equal(chain.Payer.ToString(), item.GetProperty("payer").GetString());

        using var bad = await chain.Gateway.Admin.GetAsync("/api/payments?status=bogus");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);

        using var otherOrg = await chain.Gateway.Admin.PostAsJsonAsync("/api/organisations", new { name = $"Other {Guid.NewGuid():N}" });
        using var other = chain.Gateway.Client((await otherOrg.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString());
        using var foreign = await other.GetAsync($"/api/payments/{id}");
        Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
    }
}
