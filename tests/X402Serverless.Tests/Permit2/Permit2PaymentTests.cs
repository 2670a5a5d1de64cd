using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.EndToEnd.PaidLinkClient;

namespace X402Serverless.Tests.Permit2;

/// <summary>
/// Links that ask for Permit2 payments (permit2Networks): the official client pays them through the gateway, settled by
/// the built-in facilitator (the proxy's settle from the gas wallet) or the official one; bad permits are refused before
/// anything moves; one permit buys one call however often it is presented; a dead request's permit is recovered once.
/// </summary>
[Collection(ChainGroup.Name)]
public sealed class Permit2PaymentTests(ChainFixture chain)
{
    [Theory]
    [InlineData("builtin")]
    [InlineData("remote")]
    public async Task The_official_client_pays_a_permit2_link_and_payTo_is_paid_on_chain(string facilitator)
    {
        var payerKey = await chain.Permit2PayerAsync();
        var link = await Permit2LinkAsync(facilitator);
        var requirement = await RequirementAsync(link.Url);
        Assert.Equal("permit2", requirement["extra"]!["assetTransferMethod"]!.GetValue<string>());

        var output = await PeerProcess.RunNodeAsync(new Dictionary<string, string>
        {
            ["PAYER_KEY"] = Hex.Encode(payerKey), ["TOKEN"] = chain.Token.ToString(), ["NETWORK"] = ChainFixture.V2Network,
        }, "pay-v2.mjs", link.Url);
        var result = JsonDocument.Parse(output.Trim().Split('\n').Last()).RootElement;

        Assert.Equal(200, result.GetProperty("status").GetInt32());
        var settlement = result.GetProperty("paymentResponse");
        Assert.True(settlement.GetProperty("success").GetBoolean());
        var tx = settlement.GetProperty("transaction").GetString()!;
        Assert.Equal(1, await chain.Rpc.ReceiptStatusAsync(tx));
        Assert.Equal(10_000, await chain.BalanceAsync(link.PayTo));
        Assert.Equal(990_000, await chain.BalanceAsync(Secp256k1.AddressOf(payerKey)));
        var record = await Payments.GetAsync(PaymentId.For(84532, chain.Token, Secp256k1.AddressOf(payerKey), NonceOf(await chain.Rpc.CallAsync("eth_getTransactionByHash", tx))), default);
        Assert.Equal(PaymentStatus.Settled, record!.Status);
        Assert.Equal(tx, record.Transaction);
    }

    [Fact]
    public async Task Bad_permits_are_refused_with_their_reasons_and_nothing_moves()
    {
        var payerKey = await chain.Permit2PayerAsync();
        var link = await Permit2LinkAsync("builtin");
        var requirement = await RequirementAsync(link.Url);
        var good = new Permit2PaymentBuilder { Requirement = requirement, PayerKey = payerKey };
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        var cases = new (string Reason, Permit2PaymentBuilder Payment)[]
        {
            ("invalid_permit2_spender", good with { Spender = ChainFixture.NewAddress() }),
            ("invalid_permit2_recipient_mismatch", good with { To = ChainFixture.NewAddress() }),
            ("permit2_amount_mismatch", good with { Amount = 9_999 }),
            ("permit2_deadline_expired", good with { Deadline = now - 1 }),
            ("permit2_not_yet_valid", good with { ValidAfter = now + 600 }),
            ("invalid_permit2_signature", good with { PayerKey = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32) }),
        };
        foreach (var (reason, payment) in cases)
        {
            // A stranger's key signs for someone else: keep the payer's address as from.
            var header = reason == "invalid_permit2_signature" ? WithFrom(payment.V2Header(), good.Payer) : payment.V2Header();
            using var response = await SendAsync(link.Url, header);
            Assert.Equal(reason, await ErrorOfAsync(response));
        }

        // An EIP-3009 authorization where Permit2 is asked for.
        using (var eip3009 = await SendAsync(link.Url, new PaymentBuilder { Requirement = requirement, PayerKey = chain.PayerKey }.V2Header()))
        {
            Assert.Equal("asset_transfer_method_mismatch", await ErrorOfAsync(eip3009));
        }
        Assert.Equal(0, await chain.BalanceAsync(link.PayTo));
        Assert.Equal(0, chain.Upstream.Hits(link.UpstreamPath));
    }

    [Fact]
    public async Task Without_an_allowance_or_the_balance_the_payment_is_refused_and_a_used_nonce_buys_nothing_again()
    {
        var link = await Permit2LinkAsync("builtin");
        var requirement = await RequirementAsync(link.Url);

        var unapproved = await chain.Permit2PayerAsync(approve: "none");
        using (var response = await SendAsync(link.Url, new Permit2PaymentBuilder { Requirement = requirement, PayerKey = unapproved }.V2Header()))
        {
            Assert.Equal("permit2_allowance_required", await ErrorOfAsync(response));
        }
        var poor = await chain.Permit2PayerAsync(atomic: 5_000);
        using (var response = await SendAsync(link.Url, new Permit2PaymentBuilder { Requirement = requirement, PayerKey = poor }.V2Header()))
        {
            Assert.Equal("permit2_insufficient_balance", await ErrorOfAsync(response));
        }

        var payerKey = await chain.Permit2PayerAsync();
        var paid = new Permit2PaymentBuilder { Requirement = requirement, PayerKey = payerKey };
        using (var first = await SendAsync(link.Url, paid.V2Header()))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }
        // The same permit again, and a new permit signed with the spent nonce: nothing more is paid or served.
        using (var again = await SendAsync(link.Url, paid.V2Header()))
        {
            Assert.Equal("invalid_exact_evm_nonce_already_used", await ErrorOfAsync(again));
        }
        using (var reused = await SendAsync(link.Url, (paid with { Deadline = paid.Deadline + 1 }).V2Header()))
        {
            Assert.Equal("invalid_exact_evm_nonce_already_used", await ErrorOfAsync(reused));
        }
        // Only the one payment moved money (the refused ones reached the upstream, as an EIP-3009 payment refused at
        // settlement does, but their answers were withheld).
        Assert.Equal(10_000, await chain.BalanceAsync(link.PayTo));
        Assert.Equal(1_000_000, await chain.BalanceAsync(Secp256k1.AddressOf(unapproved)));
        Assert.Equal(5_000, await chain.BalanceAsync(Secp256k1.AddressOf(poor)));
    }

    [Fact]
    public async Task A_permit_whose_nonce_the_payer_burned_is_refused_as_consumed_elsewhere_before_the_upstream_and_nothing_moves()
    {
        var payerKey = await chain.Permit2PayerAsync();
        var link = await Permit2LinkAsync("builtin");
        var payment = new Permit2PaymentBuilder { Requirement = await RequirementAsync(link.Url), PayerKey = payerKey };
        await PeerProcess.RunNodeAsync(null, "permit2-invalidate.mjs", chain.RpcUrl, Hex.Encode(payerKey),
            payment.Nonce.ToString(System.Globalization.CultureInfo.InvariantCulture));

        using var response = await SendAsync(link.Url, payment.V2Header());

        // Refused from Permit2's nonceBitmap before anything is reserved or the upstream called.
        Assert.Equal("authorization_consumed_elsewhere", await ErrorOfAsync(response));
        Assert.Equal(0, await chain.BalanceAsync(link.PayTo));
        Assert.Null(await Payments.GetAsync(PaymentId.For(84532, chain.Token, payment.Payer, Core.Evm.AbiWord.UInt256(payment.Nonce)), default));
        Assert.Equal(0, chain.Upstream.Hits(link.UpstreamPath));
    }

    [Fact]
    public async Task With_verify_on_chain_a_payer_without_an_allowance_is_refused_before_the_upstream_is_called()
    {
        var link = await Permit2LinkAsync("builtin", verifyOnChain: true);
        var unapproved = await chain.Permit2PayerAsync(approve: "none");

        using var response = await SendAsync(link.Url, new Permit2PaymentBuilder { Requirement = await RequirementAsync(link.Url), PayerKey = unapproved }.V2Header());

        Assert.Equal("permit2_allowance_required", await ErrorOfAsync(response));
        Assert.Equal(0, chain.Upstream.Hits(link.UpstreamPath));
    }

    [Fact]
    public async Task A_deferred_links_permit2_payment_is_served_first_and_settled_by_the_worker()
    {
        var payerKey = await chain.Permit2PayerAsync();
        var link = await Permit2LinkAsync("builtin", settlement: "deferred");
        var payment = new Permit2PaymentBuilder { Requirement = await RequirementAsync(link.Url), PayerKey = payerKey };

        using (var response = await SendAsync(link.Url, payment.V2Header()))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var id = PaymentId.For(84532, chain.Token, payment.Payer, Core.Evm.AbiWord.UInt256(payment.Nonce));
        var settled = await Poll.UntilAsync(async () => await Payments.GetAsync(id, default) is { Status: PaymentStatus.Settled } r ? r : null, TimeSpan.FromSeconds(60));
        Assert.Equal(1, await chain.Rpc.ReceiptStatusAsync(settled.Transaction!));
        Assert.Equal(10_000, await chain.BalanceAsync(link.PayTo));
    }

    [Fact]
    public async Task A_thousand_parallel_presentations_of_one_permit_buy_one_call()
    {
        var payerKey = await chain.Permit2PayerAsync();
        var link = await Permit2LinkAsync("builtin");
        var header = new Permit2PaymentBuilder { Requirement = await RequirementAsync(link.Url), PayerKey = payerKey }.V2Header();

        var statuses = await SendConcurrentlyAsync(link.Url, header, 1000);

        Assert.Equal(1, statuses.Count(s => s == 200));
        Assert.All(statuses.Where(s => s != 200), s => Assert.Equal(402, s));
        Assert.Equal(10_000, await chain.BalanceAsync(link.PayTo));
        Assert.Equal(1, chain.Upstream.Hits(link.UpstreamPath));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_dead_requests_permit2_payment_that_landed_is_recovered_settled_once(bool transactionRecorded)
    {
        var payerKey = await chain.Permit2PayerAsync();
        var link = await Permit2LinkAsync("builtin");
        var payment = new Permit2PaymentBuilder { Requirement = await RequirementAsync(link.Url), PayerKey = payerKey, Deadline = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 55 };
        using (var paid = await SendAsync(link.Url, payment.V2Header()))
        {
            Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
        }
        var id = PaymentId.For(84532, chain.Token, payment.Payer, Core.Evm.AbiWord.UInt256(payment.Nonce));
        var settled = (await Payments.GetAsync(id, default))!;

        // Rewound to what a request killed after broadcasting its settle leaves: Reserved, with or without the hash recorded.
        var old = DateTimeOffset.UtcNow.AddHours(-1);
        await DeleteAsync(id);
        Assert.True(await Payments.TryReserveAsync(settled with { Status = PaymentStatus.Reserved, Transaction = null, CreatedAt = old, UpdatedAt = old }, default));
        if (transactionRecorded)
        {
            await Payments.RecordSubmittedAsync(id, settled.Transaction!, old, default);
        }
        using var client = chain.Gateway.Client();
        using (var maintenance = await client.PostAsync("/Maintenance", new StringContent("""{"Data":{"timer":{}},"Metadata":{}}""", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.OK, maintenance.StatusCode);
        }

        var recovered = await Poll.UntilAsync(async () => await Payments.GetAsync(id, default) is { Status: PaymentStatus.Settled } r ? r : null, TimeSpan.FromSeconds(60));
        Assert.Equal(settled.Transaction, recovered.Transaction);
        Assert.True(recovered.ContentOwed);
        Assert.Equal(10_000, await chain.BalanceAsync(link.PayTo));
        Assert.Equal(1, await chain.Rpc.TransferLogCountAsync(chain.Token, link.PayTo));
    }

    [Fact]
    public async Task Permit2_is_switched_on_and_off_per_network_through_the_api_and_the_402_follows()
    {
        var link = await chain.CreateLinkAsync();
        Assert.Null((await RequirementAsync(link.Url))["extra"]!["assetTransferMethod"]);

        using (var on = await chain.Gateway.Admin.PatchAsJsonAsync($"/api/links/{link.Id}", new { permit2Networks = new[] { ChainFixture.V2Network } }))
        {
            on.EnsureSuccessStatusCode();
            Assert.Equal(ChainFixture.V2Network, (await on.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("permit2Networks")[0].GetString());
        }
        await Poll.UntilAsync(async () => (await RequirementAsync(link.Url))["extra"]!["assetTransferMethod"]?.GetValue<string>() == "permit2", TimeSpan.FromSeconds(30));
        // x402 v1 clients cannot sign Permit2: the 402 offers them nothing on that network.
        using (var challenge = await new HttpClient().GetAsync(link.Url))
        {
            Assert.Empty(JsonDocument.Parse(await challenge.Content.ReadAsStringAsync()).RootElement.GetProperty("accepts").EnumerateArray());
        }

        using (var off = await chain.Gateway.Admin.PatchAsJsonAsync($"/api/links/{link.Id}", new { permit2Networks = Array.Empty<string>() }))
        {
            off.EnsureSuccessStatusCode();
        }
        await Poll.UntilAsync(async () => (await RequirementAsync(link.Url))["extra"]!["assetTransferMethod"] is null, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void The_console_form_sends_permit2_networks_only_when_changed()
    {
        var link = new Core.Links.PaidLink
        {
            Id = "lnk_p2", OrganisationId = "org", Upstream = "https://api.example.com", Price = Core.Money.Usd.Parse("0.01"),
            PayTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", Networks = ["eip155:84532", "eip155:8453"], Methods = [],
            Permit2Networks = ["eip155:84532"], CreatedAt = DateTimeOffset.UnixEpoch, UpdatedAt = DateTimeOffset.UnixEpoch,
        };
        var form = Handler.ProviderConsole.EditLinkForm.From(link);
        Assert.Equal("eip155:84532", form.Permit2Networks);
        Assert.Null(form.ToDraft(link, []).Permit2Networks);

        form.Permit2Networks = "eip155:84532, eip155:8453";
        Assert.Equal(["eip155:84532", "eip155:8453"], form.ToDraft(link, []).Permit2Networks);
        form.Permit2Networks = "";
        Assert.Empty(form.ToDraft(link, []).Permit2Networks!);
    }

    private IPaymentStore Payments => chain.Gateway.Services.GetRequiredService<IPaymentStore>();

    private async Task<PaidTestLink> Permit2LinkAsync(string facilitator, bool verifyOnChain = false, string settlement = "sync")
    {
        var path = $"/ok/{Guid.NewGuid():N}";
        var payTo = ChainFixture.NewAddress();
        var (id, url) = await chain.Gateway.CreateLinkAsync(new
        {
            upstream = chain.Upstream.BaseUrl + path, price = "0.01", payTo = payTo.ToString(), name = "Permit2 API",
            facilitator, verifyOnChain, settlement, deferredPayers = "any", permit2Networks = new[] { ChainFixture.V2Network },
        });
        return new PaidTestLink(id, url, path, payTo);
    }

    private async Task DeleteAsync(string id)
    {
        var database = chain.Gateway.Services.GetRequiredService<Sqlite.SqliteDatabase>();
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM payments WHERE id = $id;";
        command.Parameters.AddWithValue("$id", id);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The Permit2 nonce a settle transaction carried (its third argument word), as 32 bytes.</summary>
    private static byte[] NonceOf(JsonElement sent)
    {
        var input = Hex.Decode(sent.GetProperty("input").GetString()!);
        return input.AsSpan(4 + 64, 32).ToArray();
    }

    private static string WithFrom(string v2Header, Core.Evm.EvmAddress from)
    {
        var payload = System.Text.Json.Nodes.JsonNode.Parse(Convert.FromBase64String(v2Header))!;
        payload["payload"]!["permit2Authorization"]!["from"] = from.ToString();
        return PaymentBuilder.Encode(payload);
    }
}
