using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Money;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Transfers;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.EndToEnd.PaidLinkClient;

namespace X402Serverless.Tests.EndToEnd;

/// <summary>
/// Paying by transaction hash (x402 TXID) on the local chain with the real token: viem sends an ordinary transfer and
/// signs the proof; the gateway checks the chain and accepts each transaction once, ever.
/// </summary>
[Collection(ChainGroup.Name)]
public sealed class TransferPaymentTests(ChainFixture chain, AzuriteFixture azurite) : IAsyncLifetime, IClassFixture<AzuriteFixture>
{
    private const long Price = 10_000; // "0.01" in the token's 6 decimals
    private const string NativeRate = "400000000000000"; // wei per USD: 1 USD = 0.0004 ETH
    private const long NativePrice = 4_000_000_000_000; // "0.01" at that rate
    private readonly ShiftedTime _time = new();
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        var settings = chain.GatewaySettings(chain.FacilitatorUrl);
        settings["X402:Transfers:Confirmations"] = "3";
        settings["X402:Transfers:MaxAgeSeconds"] = "600";
        settings["X402:Transfers:ClaimLeaseSeconds"] = "120";
        settings["X402:Transfers:NativeWeiPerUsd:84532"] = NativeRate;
        _gateway = await GatewayHost.StartAsync(GatewayHost.UnderFunctionsHost(settings), b => b.Services.AddSingleton<TimeProvider>(_time));
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task A_transfer_pays_once_confirmed_is_listed_as_settled_and_never_pays_again()
    {
        var payer = await PayerAsync();
        var link = await LinkAsync();
        var offer = await OfferAsync(link);
        var info = offer.Txid["info"]!;
        Assert.Equal("txid", (string?)info["type"]);
        Assert.Equal("eip712", (string?)info["format"]);
        var entry = info["accepts"]![0]!;
        Assert.Equal(ChainFixture.V2Network, (string?)entry["network"]);
        Assert.Equal(link.PayTo.ToString(), (string?)entry["payTo"]);
        Assert.Equal(Price.ToString(System.Globalization.CultureInfo.InvariantCulture), (string?)entry["amount"]);
        Assert.Equal(3, (int)entry["minConfirmations"]!);
        Assert.Equal(600, (int)entry["maxAgeSeconds"]!);

        var tx = await TransferAsync(payer, link.PayTo, Price);
        var header = await SignAsync(payer, tx, link.Url, offer);

        using (var early = await SendAsync(link.Url, header))
        {
            Assert.Equal(TransferReasons.Unconfirmed, await ErrorOfAsync(early));
        }
        await MineAsync(2);
        using (var paid = await SendAsync(link.Url, header))
        {
            Assert.Equal(200, (int)paid.StatusCode);
            var settlement = SettlementOf(paid);
            Assert.True(settlement.GetProperty("success").GetBoolean());
            Assert.Equal(tx, settlement.GetProperty("transaction").GetString());
            var paymentId = paid.Headers.GetValues("X-Payment-Id").Single();
            var payment = await PaymentsApiClient.GetAsync(_gateway, paymentId);
            Assert.Equal("settled", payment.GetProperty("status").GetString()!.ToLowerInvariant());
            Assert.Equal(tx, payment.GetProperty("transaction").GetString());
            Assert.Equal(payer.Address.ToString(), payment.GetProperty("payer").GetString(), ignoreCase: true);
        }
        Assert.Equal(1, chain.Upstream.Hits(link.UpstreamPath));
        Assert.Single(await PaymentsApiClient.ListAsync(_gateway, link.Id, "settled"));

        using (var again = await SendAsync(link.Url, header))
        {
            Assert.Equal(TransferReasons.AlreadyUsed, await ErrorOfAsync(again));
        }
        // Another link of the same provider (same payTo, same price) is not paid by it either.
        var other = await LinkAsync(payTo: link.PayTo);
        using (var elsewhere = await SendAsync(other.Url, await SignAsync(payer, tx, other.Url, await OfferAsync(other))))
        {
            Assert.Equal(TransferReasons.AlreadyUsed, await ErrorOfAsync(elsewhere));
        }
        Assert.Equal(1, chain.Upstream.Hits(link.UpstreamPath));
        Assert.Equal(0, chain.Upstream.Hits(other.UpstreamPath));
    }

    [Fact]
    public async Task A_failed_upstream_call_gives_the_hash_back_and_it_pays_for_the_next_call()
    {
        var payer = await PayerAsync();
        var failing = await LinkAsync(kind: "fail");
        var working = await LinkAsync(payTo: failing.PayTo);
        var tx = await TransferAsync(payer, failing.PayTo, Price);
        await MineAsync(2);

        using (var failed = await SendAsync(failing.Url, await SignAsync(payer, tx, failing.Url, await OfferAsync(failing))))
        {
            Assert.Equal(500, (int)failed.StatusCode);
        }
        Assert.Equal(1, chain.Upstream.Hits(failing.UpstreamPath));
        var claims = _gateway.Services.GetRequiredService<ITransferClaimStore>();
        Assert.Null(await claims.GetAsync(tx, default));
        Assert.Empty(await PaymentsApiClient.ListAsync(_gateway, failing.Id, "settled"));

        using var paid = await SendAsync(working.Url, await SignAsync(payer, tx, working.Url, await OfferAsync(working)));
        Assert.Equal(200, (int)paid.StatusCode);
        Assert.True((await claims.GetAsync(tx, default))!.Consumed);
    }

    [Fact]
    public async Task A_claim_left_by_a_crashed_request_holds_the_hash_until_its_lease_ends_then_the_hash_pays_once()
    {
        var payer = await PayerAsync();
        var link = await LinkAsync();
        var tx = await TransferAsync(payer, link.PayTo, Price);
        await MineAsync(2);
        var header = await SignAsync(payer, tx, link.Url, await OfferAsync(link));

        // What a process that died between claiming the hash and answering leaves behind.
        var claims = _gateway.Services.GetRequiredService<ITransferClaimStore>();
        var now = _time.GetUtcNow();
        Assert.Equal(TransferClaimOutcome.Claimed, await claims.ClaimAsync(
            new TransferClaim { TxHash = tx, Owner = "crashed", LinkId = link.Id, LeaseUntil = now.AddSeconds(120) }, now, default));
        using (var held = await SendAsync(link.Url, header))
        {
            Assert.Equal(TransferReasons.InFlight, await ErrorOfAsync(held));
        }
        Assert.Equal(0, chain.Upstream.Hits(link.UpstreamPath));

        _time.Shift(TimeSpan.FromSeconds(121));
        using (var paid = await SendAsync(link.Url, header))
        {
            Assert.Equal(200, (int)paid.StatusCode);
        }
        Assert.False(await claims.ConsumeAsync(tx, "crashed", "pay_late", default));
        using var again = await SendAsync(link.Url, header);
        Assert.Equal(TransferReasons.AlreadyUsed, await ErrorOfAsync(again));
        Assert.Equal(1, chain.Upstream.Hits(link.UpstreamPath));
    }

    [Fact]
    public async Task A_thousand_presentations_of_one_hash_at_once_to_one_link_pay_exactly_once()
    {
        var payer = await PayerAsync();
        var link = await LinkAsync();
        var tx = await TransferAsync(payer, link.PayTo, Price);
        await MineAsync(2);
        var header = await SignAsync(payer, tx, link.Url, await OfferAsync(link));

        var answers = await PresentAllAsync(Enumerable.Repeat((link.Url, header), 1000));

        AssertExactlyOnePaid(answers);
        Assert.Equal(1, chain.Upstream.Hits(link.UpstreamPath));
    }

    [Fact]
    public async Task A_thousand_presentations_of_one_hash_spread_over_two_links_pay_exactly_once()
    {
        var payer = await PayerAsync();
        var first = await LinkAsync();
        var second = await LinkAsync(payTo: first.PayTo);
        var tx = await TransferAsync(payer, first.PayTo, Price);
        await MineAsync(2);
        var toFirst = await SignAsync(payer, tx, first.Url, await OfferAsync(first));
        var toSecond = await SignAsync(payer, tx, second.Url, await OfferAsync(second));

        var answers = await PresentAllAsync(Enumerable.Range(0, 1000).Select(i => i % 2 == 0 ? (first.Url, toFirst) : (second.Url, toSecond)));

        AssertExactlyOnePaid(answers);
        Assert.Equal(1, chain.Upstream.Hits(first.UpstreamPath) + chain.Upstream.Hits(second.UpstreamPath));
    }

    [Fact]
    public async Task Each_transfer_that_does_not_pay_is_refused_with_its_own_reason_and_charges_nothing()
    {
        var payer = await PayerAsync();
        var link = await LinkAsync();
        var offer = await OfferAsync(link);
        var stranger = new Payer(Convert.FromHexString(PeerKey(await chain.FundedWalletAsync())));

        var tooLittle = await TransferAsync(payer, link.PayTo, Price - 1);
        var wrongPayTo = await TransferAsync(payer, ChainFixture.NewAddress(), Price);
        var otherToken = await DeployTokenAsync(payer.Address);
        var wrongToken = await TransferAsync(payer, link.PayTo, Price, token: otherToken);
        var reverted = await TransferAsync(payer, link.PayTo, 1_000_000_000_000, gas: 200_000, expectSuccess: false);
        var good = await TransferAsync(payer, link.PayTo, Price);
        await MineAsync(2);

        await AssertRefusedAsync(link, await SignAsync(payer, tooLittle, link.Url, offer), TransferReasons.InsufficientValue);
        await AssertRefusedAsync(link, await SignAsync(payer, wrongPayTo, link.Url, offer), TransferReasons.WrongPayTo);
        await AssertRefusedAsync(link, await SignAsync(payer, wrongToken, link.Url, offer), TransferReasons.WrongToken);
        await AssertRefusedAsync(link, await SignAsync(payer, reverted, link.Url, offer), TransferReasons.Reverted);
        await AssertRefusedAsync(link, await SignAsync(payer, "0x" + new string('7', 64), link.Url, offer), TransferReasons.NotFound);

        // Someone who saw the hash (mempool, explorer) signs it with their own wallet: the tokens did not come from them.
        await AssertRefusedAsync(link, await SignAsync(stranger, good, link.Url, offer), TransferReasons.WrongSender);
        // ...or claims to be the sender without the sender's key.
        await AssertRefusedAsync(link, Proof(payer.Address, stranger.Key, good, link.Url, offer), TransferReasons.InvalidSignature);
        // Signed for another chain, another link, or terms other than the link's.
        await AssertRefusedAsync(link, Proof(payer.Address, payer.Key, good, link.Url, offer, chainId: 1), TransferReasons.InvalidSignature);
        var otherLink = await LinkAsync(payTo: link.PayTo);
        await AssertRefusedAsync(link, await SignAsync(payer, good, otherLink.Url, offer), TransferReasons.WrongResource);
        await AssertRefusedAsync(link, await SignAsync(payer, good, "https://elsewhere.example/l/" + link.Id, offer), TransferReasons.WrongResource);
        var cheaper = offer with { Accepted = offer.Accepted.DeepClone().AsObject() };
        cheaper.Accepted["amount"] = "1";
        await AssertRefusedAsync(link, await SignAsync(payer, good, link.Url, cheaper), TransferReasons.RequirementMismatch);
        var otherNetwork = offer with { Accepted = offer.Accepted.DeepClone().AsObject() };
        otherNetwork.Accepted["network"] = "eip155:1";
        await AssertRefusedAsync(link, await SignAsync(payer, good, link.Url, otherNetwork), TransferReasons.RequirementMismatch);
        // Malformed proofs.
        await AssertRefusedAsync(link, Base64(new JsonObject { ["x402Version"] = 2, ["payload"] = new JsonObject { ["type"] = "txid" } }), TransferReasons.InvalidPayload);
        var badHash = JsonNode.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(Proof(payer.Address, payer.Key, good, link.Url, offer))))!;
        badHash["payload"]!["txRef"] = "0x1234";
        await AssertRefusedAsync(link, Base64(badHash), TransferReasons.InvalidPayload);

        Assert.Equal(0, chain.Upstream.Hits(link.UpstreamPath));
        // None of the refusals used the good transfer up: it still pays, once.
        using var paid = await SendAsync(link.Url, await SignAsync(payer, good, link.Url, offer));
        Assert.Equal(200, (int)paid.StatusCode);
    }

    [Fact]
    public async Task A_transfer_older_than_the_window_does_not_pay()
    {
        var payer = await PayerAsync();
        var link = await LinkAsync();
        var tx = await TransferAsync(payer, link.PayTo, Price);
        await MineAsync(2);
        _time.Shift(TimeSpan.FromSeconds(601));
        await AssertRefusedAsync(link, await SignAsync(payer, tx, link.Url, await OfferAsync(link)), TransferReasons.TooOld);
        Assert.Equal(0, chain.Upstream.Hits(link.UpstreamPath));
    }

    [Fact]
    public async Task A_transfer_record_left_reserved_by_a_crash_is_concluded_settled_by_maintenance_not_sent_to_a_facilitator()
    {
        // A crash after the hash was consumed and the record written, before it was marked settled.
        var payments = _gateway.Services.GetRequiredService<IPaymentStore>();
        var tx = "0x" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var old = _time.GetUtcNow().AddHours(-1);
        var record = new PaymentRecord
        {
            Id = "pay_" + Guid.NewGuid().ToString("N")[..32], LinkId = "lnk_crashed", OrganisationId = "org_crashed", Network = ChainFixture.V2Network,
            Asset = chain.Token.ToString(), Payer = ChainFixture.NewAddress().ToString(), PayTo = ChainFixture.NewAddress().ToString(), Nonce = tx,
            Amount = new TokenAmount(Price), X402Version = 2, Status = PaymentStatus.Reserved, Facilitator = "transfer", Transaction = tx,
            CreatedAt = old, UpdatedAt = old,
        };
        Assert.True(await payments.TryReserveAsync(record, default));

        using var client = _gateway.Client();
        using var response = await client.PostAsync("/Maintenance", new StringContent("""{"Data":{"timer":{}},"Metadata":{}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(200, (int)response.StatusCode);

        var concluded = (await payments.GetAsync(record.Id, default))!;
        Assert.Equal(PaymentStatus.Settled, concluded.Status);
        Assert.Equal(tx, concluded.Transaction);
    }

    [Fact]
    public async Task On_table_storage_a_hash_presented_two_hundred_times_over_two_links_pays_once_and_is_recorded()
    {
        var settings = chain.GatewaySettings(chain.FacilitatorUrl);
        settings["X402:Storage:Kind"] = "table";
        settings["X402:Storage:TableEndpoint"] = azurite.Endpoint;
        settings["X402:Storage:AccountName"] = "devstoreaccount1";
        settings["X402:Storage:AccountKey"] = AzuriteFixture.AccountKey;
        settings["X402:Storage:TablePrefix"] = AzuriteFixture.UniqueTable("tx");
        settings["X402:Transfers:Confirmations"] = "1";
        await using var gateway = await GatewayHost.StartAsync(settings);
        Assert.IsType<X402Serverless.AzureStorage.TableTransferClaimStore>(gateway.Services.GetRequiredService<ITransferClaimStore>());

        var payer = await PayerAsync();
        var first = await LinkAsync(gateway: gateway);
        var second = await LinkAsync(payTo: first.PayTo, gateway: gateway);
        var tx = await TransferAsync(payer, first.PayTo, Price);
        var toFirst = await SignAsync(payer, tx, first.Url, await OfferAsync(first));
        var toSecond = await SignAsync(payer, tx, second.Url, await OfferAsync(second));

        var answers = await PresentAllAsync(Enumerable.Range(0, 200).Select(i => i % 2 == 0 ? (first.Url, toFirst) : (second.Url, toSecond)));

        AssertExactlyOnePaid(answers);
        Assert.Equal(1, chain.Upstream.Hits(first.UpstreamPath) + chain.Upstream.Hits(second.UpstreamPath));
        Assert.True((await gateway.Services.GetRequiredService<ITransferClaimStore>().GetAsync(tx, default))!.Consumed);
        var settled = (await PaymentsApiClient.ListAsync(gateway, first.Id, "settled")).Concat(await PaymentsApiClient.ListAsync(gateway, second.Id, "settled"));
        Assert.Equal(tx, Assert.Single(settled).GetProperty("transaction").GetString());
    }

    [Fact]
    public async Task The_hash_of_an_x402_settlement_presented_by_its_payer_pays_nothing_more()
    {
        var payer = await PayerAsync();
        var link = await LinkAsync();
        var offer = await OfferAsync(link);
        // Paid once the x402 way: the facilitator's own transaction moves the payer's tokens to payTo.
        using var paid = await SendAsync(link.Url, new PaymentBuilder { Requirement = offer.Accepted, PayerKey = payer.Key }.V2Header());
        Assert.Equal(200, (int)paid.StatusCode);
        var settlement = SettlementOf(paid).GetProperty("transaction").GetString()!;
        await MineAsync(3);

        // Its Transfer log is from the payer to payTo for the price, but the payer did not send it: no second call.
        await AssertRefusedAsync(link, await SignAsync(payer, settlement, link.Url, offer), TransferReasons.WrongSender);
        Assert.Equal(1, chain.Upstream.Hits(link.UpstreamPath));
    }

    [Fact]
    public async Task A_link_without_transfers_offers_none_and_a_txid_proof_is_not_taken_for_an_x402_payment()
    {
        var path = $"/ok/{Guid.NewGuid():N}";
        var (_, url) = await _gateway.CreateLinkAsync(new { upstream = chain.Upstream.BaseUrl + path, price = "0.01", payTo = ChainFixture.NewAddress().ToString() });
        using var challenge = await new HttpClient().GetAsync(url);
        var required = JsonNode.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(challenge.Headers.GetValues("PAYMENT-REQUIRED").Single())))!;
        Assert.Null(required["extensions"]!["txid"]);

        using var refused = await _gateway.Admin.PostAsJsonAsync("/api/links", new { upstream = chain.Upstream.BaseUrl + path, price = "0.01", accepts = new[] { "transfer" } });
        Assert.Equal(400, (int)refused.StatusCode);
        Assert.Contains("transfer_needs_x402", await refused.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_native_coin_pays_once_at_the_operators_rate_and_is_listed_at_the_calls_price()
    {
        var payer = await PayerAsync();
        var link = await LinkAsync();
        var offer = await OfferAsync(link);
        var info = offer.Txid["info"]!;
        Assert.True((bool)info["native"]!);
        var entry = info["accepts"]!.AsArray().Single(e => (string?)e!["asset"] == "native")!;
        Assert.Equal(NativePrice.ToString(System.Globalization.CultureInfo.InvariantCulture), (string?)entry["amount"]);
        Assert.Equal(link.PayTo.ToString(), (string?)entry["payTo"]);
        var native = offer with { Accepted = entry["accepted"]!.AsObject() };
        Assert.Equal("native", (string?)native.Accepted["asset"]);

        var tx = await SendCoinAsync(payer, link.PayTo, NativePrice);
        await MineAsync(2);
        var header = await SignAsync(payer, tx, link.Url, native);

        using (var paid = await SendAsync(link.Url, header))
        {
            Assert.Equal(200, (int)paid.StatusCode);
            var payment = await PaymentsApiClient.GetAsync(_gateway, paid.Headers.GetValues("X-Payment-Id").Single());
            Assert.Equal("settled", payment.GetProperty("status").GetString()!.ToLowerInvariant());
            Assert.Equal(tx, payment.GetProperty("transaction").GetString());
            Assert.Equal("native", payment.GetProperty("asset").GetString());
        }
        Assert.Equal(NativePrice, Convert.ToInt64((await chain.Rpc.CallAsync("eth_getBalance", link.PayTo.ToLowerHex(), "latest")).GetString(), 16));
        Assert.Equal(1, chain.Upstream.Hits(link.UpstreamPath));
        await AssertRefusedAsync(link, header, TransferReasons.AlreadyUsed);
        // Nor as a token payment: the hash is spent, whatever it is presented as.
        await AssertRefusedAsync(link, await SignAsync(payer, tx, link.Url, offer), TransferReasons.AlreadyUsed);
        Assert.Equal(1, chain.Upstream.Hits(link.UpstreamPath));
    }

    [Fact]
    public async Task Native_transfers_that_do_not_pay_are_refused_with_their_own_reasons()
    {
        var payer = await PayerAsync();
        var link = await LinkAsync();
        var offer = await OfferAsync(link);
        var native = offer with { Accepted = offer.Txid["info"]!["accepts"]!.AsArray().Single(e => (string?)e!["asset"] == "native")!["accepted"]!.AsObject() };
        var stranger = new Payer(Convert.FromHexString(PeerKey(await chain.FundedWalletAsync())));

        var tooLittle = await SendCoinAsync(payer, link.PayTo, NativePrice - 1);
        var wrongPayTo = await SendCoinAsync(payer, ChainFixture.NewAddress(), NativePrice);
        // The token contract takes no coin: mined, reverted.
        var reverted = await SendCoinAsync(payer, chain.Token, NativePrice, gas: 100_000, expectSuccess: false);
        var tokenTransfer = await TransferAsync(payer, link.PayTo, Price);
        var good = await SendCoinAsync(payer, link.PayTo, NativePrice);
        await AssertRefusedAsync(link, await SignAsync(payer, good, link.Url, native), TransferReasons.Unconfirmed);
        await MineAsync(2);

        await AssertRefusedAsync(link, await SignAsync(payer, tooLittle, link.Url, native), TransferReasons.InsufficientValue);
        await AssertRefusedAsync(link, await SignAsync(payer, wrongPayTo, link.Url, native), TransferReasons.WrongPayTo);
        await AssertRefusedAsync(link, await SignAsync(payer, reverted, link.Url, native), TransferReasons.Reverted);
        await AssertRefusedAsync(link, await SignAsync(payer, tokenTransfer, link.Url, native), TransferReasons.WrongPayTo); // sent to the token
        await AssertRefusedAsync(link, await SignAsync(payer, good, link.Url, offer), TransferReasons.WrongToken); // coin presented as tokens
        await AssertRefusedAsync(link, await SignAsync(stranger, good, link.Url, native), TransferReasons.WrongSender);
        // A native "accepted" at another amount is not one of the link's requirements.
        var cheaper = native with { Accepted = native.Accepted.DeepClone().AsObject() };
        cheaper.Accepted["amount"] = "1";
        await AssertRefusedAsync(link, await SignAsync(payer, good, link.Url, cheaper), TransferReasons.RequirementMismatch);
        Assert.Equal(0, chain.Upstream.Hits(link.UpstreamPath));

        using var paid = await SendAsync(link.Url, await SignAsync(payer, good, link.Url, native));
        Assert.Equal(200, (int)paid.StatusCode);
    }

    [Fact]
    public async Task A_thousand_presentations_of_one_native_transfer_at_once_pay_exactly_once()
    {
        var payer = await PayerAsync();
        var link = await LinkAsync();
        var offer = await OfferAsync(link);
        var native = offer with { Accepted = offer.Txid["info"]!["accepts"]!.AsArray().Single(e => (string?)e!["asset"] == "native")!["accepted"]!.AsObject() };
        var tx = await SendCoinAsync(payer, link.PayTo, NativePrice);
        await MineAsync(2);
        var header = await SignAsync(payer, tx, link.Url, native);

        var answers = await PresentAllAsync(Enumerable.Repeat((link.Url, header), 1000));

        AssertExactlyOnePaid(answers);
        Assert.Equal(1, chain.Upstream.Hits(link.UpstreamPath));
    }

    // ---- helpers ----

    /// <summary>An ordinary transfer of the native coin (wei), sent by viem.</summary>
    private async Task<string> SendCoinAsync(Payer from, EvmAddress to, long wei, long? gas = null, bool expectSuccess = true)
    {
        var step = new JsonObject
        {
            ["op"] = "send", ["rpcUrl"] = chain.RpcUrl, ["privateKey"] = from.KeyHex, ["to"] = to.ToString(),
            ["value"] = wei.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (gas is { } g)
        {
            step["gas"] = g.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        var result = (await RunAsync(step))[0]!;
        Assert.Equal(expectSuccess ? "success" : "reverted", (string?)result["status"]);
        return (string)result["txHash"]!;
    }

    private sealed record Payer(byte[] Key)
    {
        public EvmAddress Address => Secp256k1.AddressOf(Key);

        public string KeyHex => Hex.Encode(Key);
    }

    private sealed record Offer(JsonObject Accepted, JsonObject Resource, JsonObject Txid);

    private static string PeerKey(string hex) => hex.StartsWith("0x", StringComparison.Ordinal) ? hex[2..] : hex;

    /// <summary>A fresh wallet with gas and 1,000 tokens, minted by the token's owner.</summary>
    private async Task<Payer> PayerAsync()
    {
        var payer = new Payer(Convert.FromHexString(PeerKey(await chain.FundedWalletAsync())));
        await RunAsync(new JsonObject
        {
            ["op"] = "mint", ["rpcUrl"] = chain.RpcUrl, ["privateKey"] = ChainFixture.DeployerKey, ["token"] = chain.Token.ToString(),
            ["to"] = payer.Address.ToString(), ["value"] = "1000000000",
        });
        return payer;
    }

    private async Task<PaidTestLink> LinkAsync(string kind = "ok", EvmAddress? payTo = null, GatewayHost? gateway = null)
    {
        var path = $"/{kind}/{Guid.NewGuid():N}";
        var to = payTo ?? ChainFixture.NewAddress();
        var (id, url) = await (gateway ?? _gateway).CreateLinkAsync(new
        {
            upstream = chain.Upstream.BaseUrl + path, price = "0.01", payTo = to.ToString(), name = "Transfer API", accepts = new[] { "x402", "transfer" },
        });
        return new PaidTestLink(id, url, path, to);
    }

    private static async Task<Offer> OfferAsync(PaidTestLink link)
    {
        using var response = await new HttpClient().GetAsync(link.Url);
        Assert.Equal(402, (int)response.StatusCode);
        var required = JsonNode.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(response.Headers.GetValues("PAYMENT-REQUIRED").Single())))!;
        return new Offer(required["accepts"]![0]!.AsObject(), required["resource"]!.AsObject(), required["extensions"]!["txid"]!.AsObject());
    }

    private async Task<string> TransferAsync(Payer from, EvmAddress to, long value, EvmAddress? token = null, long? gas = null, bool expectSuccess = true)
    {
        var step = new JsonObject
        {
            ["op"] = "transfer", ["rpcUrl"] = chain.RpcUrl, ["privateKey"] = from.KeyHex, ["token"] = (token ?? chain.Token).ToString(),
            ["to"] = to.ToString(), ["value"] = value.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (gas is { } g)
        {
            step["gas"] = g.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        var result = (await RunAsync(step))[0]!;
        Assert.Equal(expectSuccess ? "success" : "reverted", (string?)result["status"]);
        return (string)result["txHash"]!;
    }

    /// <summary>The proof as a payer's wallet makes it: viem's signTypedData over the hash, resource and accepted requirement.</summary>
    private static async Task<string> SignAsync(Payer payer, string tx, string resourceUrl, Offer offer)
    {
        var resource = offer.Resource.DeepClone().AsObject();
        resource["url"] = resourceUrl;
        var result = (await RunAsync(new JsonObject
        {
            ["op"] = "sign", ["privateKey"] = payer.KeyHex, ["chainId"] = 84532, ["txRef"] = tx,
            ["resource"] = new JsonObject { ["url"] = resourceUrl, ["description"] = (string?)resource["description"] ?? "", ["mimeType"] = (string?)resource["mimeType"] ?? "" },
            ["accepted"] = offer.Accepted.DeepClone(),
        }))[0]!;
        return (string)result["header"]!;
    }

    /// <summary>A proof built and signed here (by the gateway's own hasher), naming <paramref name="from"/> whoever signs it.</summary>
    private static string Proof(EvmAddress from, byte[] signer, string tx, string resourceUrl, Offer offer, long chainId = 84532)
    {
        var a = offer.Accepted;
        var unsigned = new TxidProof(tx, from, [], resourceUrl, (string?)offer.Resource["description"] ?? "", (string?)offer.Resource["mimeType"] ?? "",
            default, (string)a["scheme"]!, (string)a["network"]!, (string)a["amount"]!, (string)a["asset"]!, EvmAddress.Parse((string)a["payTo"]!),
            (long)a["maxTimeoutSeconds"]!);
        var signature = PaymentProofHasher.Sign(chainId, unsigned, signer);
        return Base64(new JsonObject
        {
            ["x402Version"] = 2,
            ["resource"] = new JsonObject { ["url"] = resourceUrl, ["description"] = unsigned.ResourceDescription, ["mimeType"] = unsigned.ResourceMimeType },
            ["accepted"] = a.DeepClone(),
            ["payload"] = new JsonObject
            {
                ["type"] = "txid", ["alg"] = "ES256K", ["format"] = "eip712", ["txRef"] = tx, ["from"] = from.ToString(), ["signature"] = Hex.Encode(signature),
            },
        });
    }

    private static string Base64(JsonNode node) => Convert.ToBase64String(Encoding.UTF8.GetBytes(node.ToJsonString()));

    private async Task<EvmAddress> DeployTokenAsync(EvmAddress mintTo)
    {
        var deployed = await PeerProcess.RunNodeAsync(null, "deploy.mjs", chain.RpcUrl, ChainFixture.DeployerKey, mintTo.ToString(), "1000000000");
        return EvmAddress.Parse(JsonDocument.Parse(deployed).RootElement.GetProperty("token").GetString()!);
    }

    private async Task MineAsync(int blocks) => await chain.Rpc.CallAsync("anvil_mine", "0x" + blocks.ToString("x", System.Globalization.CultureInfo.InvariantCulture));

    private static async Task<JsonArray> RunAsync(params JsonObject[] steps) =>
        JsonNode.Parse(await PeerProcess.RunNodeWithInputAsync(null, new JsonArray(steps).ToJsonString(), "pay-txid.mjs"))!.AsArray();

    private static async Task AssertRefusedAsync(PaidTestLink link, string header, string reason)
    {
        using var response = await SendAsync(link.Url, header);
        Assert.Equal(reason, await ErrorOfAsync(response));
    }

    private static async Task<(int Status, string? Error)[]> PresentAllAsync(IEnumerable<(string Url, string Header)> presentations)
    {
        // Released together by one awaited signal: a thousand blocked threads would starve the pool instead.
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sends = presentations.Select(p => Task.Run(async () =>
        {
            await start.Task;
            using var response = await SendAsync(p.Url, p.Header);
            var status = (int)response.StatusCode;
            return (status, status == 402 ? await ErrorOfAsync(response) : null);
        })).ToList();
        start.SetResult();
        return await Task.WhenAll(sends);
    }

    private static void AssertExactlyOnePaid((int Status, string? Error)[] answers)
    {
        Assert.Single(answers, a => a.Status == 200);
        var refused = answers.Where(a => a.Status != 200).ToList();
        Assert.All(refused, a => Assert.Equal(402, a.Status));
        Assert.All(refused, a => Assert.Contains(a.Error, new[] { TransferReasons.InFlight, TransferReasons.AlreadyUsed }));
    }

    /// <summary>The system clock moved forward by a test's shift (timers keep real time).</summary>
    private sealed class ShiftedTime : TimeProvider
    {
        private long _offsetTicks;

        public void Shift(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));
    }
}
