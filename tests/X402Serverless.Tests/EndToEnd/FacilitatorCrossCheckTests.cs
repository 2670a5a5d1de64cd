using System.Numerics;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Settlement;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.EndToEnd.PaidLinkClient;
using X402Serverless.Core.Money;

namespace X402Serverless.Tests.EndToEnd;

/// <summary>
/// A remote facilitator's "settled" is checked on chain, and recovery and expiry judge a used nonce by its transfer,
/// never by the nonce alone.
/// </summary>
[Collection(ChainGroup.Name)]
public sealed class FacilitatorCrossCheckTests(ChainFixture chain)
{
    [Fact]
    public async Task A_facilitator_that_answers_success_with_another_transaction_does_not_get_the_content_served()
    {
        string? claimed = null;
        await using var facilitator = await ClaimingFacilitatorAsync(() => claimed!);
        await using var gateway = await GatewayHost.StartAsync(chain.GatewaySettings(facilitator.Url));
        var link = await chain.CreateLinkAsync(gateway: gateway, facilitator: "remote");
        var payerKey = await NonceBurner.FundedPayerAsync(chain, 1_000_000);
        var payment = new PaymentBuilder { Requirement = await RequirementAsync(link.Url), PayerKey = payerKey };
        claimed = await NonceBurner.BurnAsync(chain, payerKey, payment.Nonce);

        using var response = await SendAsync(link.Url, payment.V2Header());

        Assert.Equal("authorization_consumed_elsewhere", await ErrorOfAsync(response));
        var failed = Assert.Single(await PaymentsApiClient.ListAsync(gateway, link.Id, "failed"));
        Assert.Equal("authorization_consumed_elsewhere", failed.GetProperty("failureReason").GetString());
        Assert.Equal(0, await chain.BalanceAsync(link.PayTo));
    }

    [Fact]
    public async Task A_facilitator_that_answers_success_with_a_transaction_the_chain_has_never_seen_leaves_the_content_withheld()
    {
        var invented = Hex.Encode(RandomNumberGenerator.GetBytes(32));
        await using var facilitator = await ClaimingFacilitatorAsync(() => invented);
        var settings = chain.GatewaySettings(facilitator.Url);
        settings["X402:Settlement:ReceiptTimeoutSeconds"] = "2"; // how long the named transaction is looked for
        await using var gateway = await GatewayHost.StartAsync(settings);
        var link = await chain.CreateLinkAsync(gateway: gateway, facilitator: "remote");
        var payment = new PaymentBuilder { Requirement = await RequirementAsync(link.Url), PayerKey = chain.PayerKey };

        using var response = await SendAsync(link.Url, payment.V2Header());

        Assert.Equal(503, (int)response.StatusCode);
        Assert.Equal("settlement_pending", await ProblemCodeAsync(response));
        Assert.Empty(await PaymentsApiClient.ListAsync(gateway, link.Id, "settled"));
        Assert.Equal(0, await chain.BalanceAsync(link.PayTo));
    }

    [Fact]
    public async Task A_facilitators_transaction_mined_after_it_answered_is_waited_for_and_the_content_served()
    {
        // The facilitator broadcasts the real authorization and answers before it is mined (its node ahead of ours).
        var answered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var (app, url) = await LoopbackApp.StartAsync(app =>
        {
            MapSupported(app);
            app.MapPost("/settle", async (HttpContext http) =>
            {
                var body = (await JsonNode.ParseAsync(http.Request.Body))!;
                var payload = body["paymentPayload"]!["payload"]!;
                var a = payload["authorization"]!;
                var authorization = new TransferAuthorization(EvmAddress.Parse((string)a["from"]!), EvmAddress.Parse((string)a["to"]!),
                    BigInteger.Parse((string)a["value"]!), BigInteger.Parse((string)a["validAfter"]!), BigInteger.Parse((string)a["validBefore"]!),
                    Hex.Decode((string)a["nonce"]!));
                var tx = await NonceBurner.SubmitSignedAsync(chain, authorization, Hex.Decode((string)payload["signature"]!));
                answered.SetResult();
                return Results.Json(new JsonObject { ["success"] = true, ["transaction"] = tx, ["network"] = ChainFixture.V2Network });
            });
        });
        await using var facilitatorApp = app;
        await using var proxy = await RpcProxy.StartAsync(chain.RpcUrl);
        var settings = chain.GatewaySettings(url);
        settings["X402:Networks:0:RpcUrl"] = proxy.Url;
        await using var gateway = await GatewayHost.StartAsync(settings);
        var link = await chain.CreateLinkAsync(gateway: gateway, facilitator: "remote");
        var payment = new PaymentBuilder { Requirement = await RequirementAsync(link.Url), PayerKey = chain.PayerKey };

        await chain.Rpc.CallAsync("evm_setAutomine", false);
        try
        {
            var paying = SendAsync(link.Url, payment.V2Header());
            await answered.Task.WaitAsync(TimeSpan.FromSeconds(30));
            // Mined only once the gateway has looked for it and found nothing: it must wait, not call it pending.
            await Poll.UntilAsync(() => Task.FromResult(proxy.Calls("eth_getTransactionReceipt") >= 2), TimeSpan.FromSeconds(30));
            await chain.Rpc.CallAsync("evm_mine");
            using var response = await paying;

            Assert.Equal(200, (int)response.StatusCode);
            Assert.Contains(link.UpstreamPath, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        finally
        {
            await chain.Rpc.CallAsync("evm_setAutomine", true);
        }
        Assert.Equal(10_000, await chain.BalanceAsync(link.PayTo));
        Assert.Single(await PaymentsApiClient.ListAsync(gateway, link.Id, "settled"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Recovery_of_a_payment_whose_request_died_settles_it_only_when_its_own_transfer_landed(bool transferred)
    {
        var (record, key) = await ReservedAsync();
        var tx = await UseNonceAsync(record, key, transferred);

        await chain.Gateway.Services.GetRequiredService<SettlementProcessor>().RecoverAsync(record, default);

        var after = (await Payments.GetAsync(record.Id, default))!;
        Assert.Equal(transferred ? PaymentStatus.Settled : PaymentStatus.Failed, after.Status);
        Assert.Equal(transferred ? tx : null, after.Status == PaymentStatus.Settled ? after.Transaction : null);
        Assert.Equal(transferred ? null : "authorization_consumed_elsewhere", after.FailureReason);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task An_expired_job_is_settled_only_when_its_own_transfer_landed(bool transferred)
    {
        var (record, key) = await ReservedAsync();
        var tx = await UseNonceAsync(record, key, transferred);
        // Kept Reserved in the store, so the gateway's own worker (which claims Pending jobs) leaves it to this test.
        var expired = record with { ValidBefore = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, SettleRequest = "{}" };

        var result = await chain.Gateway.Services.GetRequiredService<SettlementProcessor>().RunAsync(expired, inline: false, default);

        Assert.True((transferred ? SettlementOutcomeKind.Settled : SettlementOutcomeKind.Failed) == result.Kind, $"{result.Kind} {result.Reason} {result.Message}");
        var after = (await Payments.GetAsync(record.Id, default))!;
        Assert.Equal(transferred ? PaymentStatus.Settled : PaymentStatus.Failed, after.Status);
        if (transferred)
        {
            Assert.Equal(tx, after.Transaction);
        }
        else
        {
            Assert.Equal("authorization_consumed_elsewhere", after.FailureReason);
        }
    }

    private IPaymentStore Payments => chain.Gateway.Services.GetRequiredService<IPaymentStore>();

    /// <summary>A payment reserved by a request that then died, for a funded wallet's fresh authorization.</summary>
    private async Task<(PaymentRecord Record, byte[] Key)> ReservedAsync()
    {
        var key = await NonceBurner.FundedPayerAsync(chain, 1_000_000);
        var payer = Secp256k1.AddressOf(key);
        var nonce = RandomNumberGenerator.GetBytes(32);
        var now = DateTimeOffset.UtcNow;
        var record = new PaymentRecord
        {
            Id = PaymentId.For(84532, chain.Token, payer, nonce),
            LinkId = "lnk_recovery",
            OrganisationId = "org_recovery",
            Network = ChainFixture.V2Network,
            Asset = chain.Token.ToString(),
            Payer = payer.ToString(),
            PayTo = ChainFixture.NewAddress().ToString(),
            Nonce = Hex.Encode(nonce),
            Amount = TokenAmount.Parse("10000"),
            X402Version = 2,
            Status = PaymentStatus.Reserved,
            ValidBefore = now.ToUnixTimeSeconds() + 300,
            CreatedAt = now,
            UpdatedAt = now,
        };
        Assert.True(await Payments.TryReserveAsync(record, default));
        return (record, key);
    }

    /// <summary>
    /// Uses the payment's nonce on chain from a bystander: with the payment's own authorization (as any facilitator
    /// might), or burned by a 0-value self-transfer.
    /// </summary>
    private async Task<string> UseNonceAsync(PaymentRecord record, byte[] key, bool transferred)
    {
        if (!transferred)
        {
            return await NonceBurner.BurnAsync(chain, key, Hex.Decode(record.Nonce));
        }
        var auth = new TransferAuthorization(EvmAddress.Parse(record.Payer), EvmAddress.Parse(record.PayTo), record.Amount.Units,
            0, record.ValidBefore, Hex.Decode(record.Nonce));
        return await NonceBurner.SubmitAsync(chain, auth, key);
    }

    /// <summary>A facilitator that answers every settle with success and the transaction it is told to claim.</summary>
    private static async Task<LoopbackFacilitator> ClaimingFacilitatorAsync(Func<string> transaction)
    {
        var (app, url) = await LoopbackApp.StartAsync(app =>
        {
            MapSupported(app);
            app.MapPost("/verify", () => Results.Json(new JsonObject { ["isValid"] = true }));
            app.MapPost("/settle", () => Results.Json(new JsonObject
            {
                ["success"] = true, ["transaction"] = transaction(), ["network"] = ChainFixture.V2Network,
            }));
        });
        return new LoopbackFacilitator(app, url);
    }

    private static void MapSupported(WebApplication app) => app.MapGet("/supported", () => Results.Json(new JsonObject
    {
        ["kinds"] = new JsonArray(new JsonObject { ["x402Version"] = 2, ["scheme"] = "exact", ["network"] = ChainFixture.V2Network }),
    }));

    private sealed record LoopbackFacilitator(WebApplication App, string Url) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => App.DisposeAsync();
    }
}
