using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.EndToEnd.PaidLinkClient;

namespace X402Serverless.Tests.EndToEnd;

/// <summary>
/// Smart accounts pay: a deployed contract wallet (EIP-1271) is authorization.from, its owner key signs, and the
/// wallet, asked through the node, vouches for the signature; the token asks it the same when the transfer settles.
/// </summary>
[Collection(ChainGroup.Name)]
public sealed class ContractWalletTests(ChainFixture chain)
{
    [Fact]
    public async Task A_contract_wallet_pays_with_its_owners_signature_and_its_own_tokens_move_on_chain()
    {
        var (wallet, owner) = await ContractWalletAsync();
        var link = await chain.CreateLinkAsync(facilitator: "builtin");
        var payment = new PaymentBuilder { Requirement = await RequirementAsync(link.Url), PayerKey = owner, From = wallet };

        using var response = await SendAsync(link.Url, payment.V2Header());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var settlement = SettlementOf(response);
        Assert.Equal(wallet.ToString(), settlement.GetProperty("payer").GetString());
        Assert.Equal(1, await chain.Rpc.ReceiptStatusAsync(settlement.GetProperty("transaction").GetString()!));
        Assert.Equal(10_000, await chain.BalanceAsync(link.PayTo));
        Assert.Equal(990_000, await chain.BalanceAsync(wallet));
    }

    [Fact]
    public async Task A_wrapped_signature_longer_than_65_bytes_settles_through_the_tokens_bytes_overload()
    {
        var (wallet, owner) = await ContractWalletAsync();
        var link = await chain.CreateLinkAsync(facilitator: "builtin");
        var payment = new PaymentBuilder
        {
            Requirement = await RequirementAsync(link.Url), PayerKey = owner, From = wallet, SignatureSuffix = RandomNumberGenerator.GetBytes(32),
        };

        using var response = await SendAsync(link.Url, payment.V2Header());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var tx = SettlementOf(response).GetProperty("transaction").GetString()!;
        var sent = await chain.Rpc.CallAsync("eth_getTransactionByHash", tx);
        // transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)
        Assert.StartsWith("0xcf092995", sent.GetProperty("input").GetString(), StringComparison.Ordinal);
        Assert.Equal(10_000, await chain.BalanceAsync(link.PayTo));
    }

    [Fact]
    public async Task A_signature_the_wallet_does_not_accept_or_junk_from_an_eoa_is_refused_and_nothing_moves()
    {
        var (wallet, _) = await ContractWalletAsync();
        var link = await chain.CreateLinkAsync(facilitator: "builtin");
        var requirement = await RequirementAsync(link.Url);

        // Someone else's key for the wallet: the wallet says no.
        using (var stranger = await SendAsync(link.Url, new PaymentBuilder { Requirement = requirement, PayerKey = RandomNumberGenerator.GetBytes(32), From = wallet }.V2Header()))
        {
            Assert.Equal("invalid_exact_evm_signature", await ErrorOfAsync(stranger));
        }
        // An EOA's payment signed by another key: no contract there to ask.
        var eoa = ChainFixture.NewAddress();
        using (var forged = await SendAsync(link.Url, new PaymentBuilder { Requirement = requirement, PayerKey = RandomNumberGenerator.GetBytes(32), From = eoa }.V2Header()))
        {
            Assert.Equal("invalid_exact_evm_signature", await ErrorOfAsync(forged));
        }
        // Too short to be anything.
        using (var shortSig = await SendAsync(link.Url, WithSignature(new PaymentBuilder { Requirement = requirement, PayerKey = chain.PayerKey }.V2Header(), "0x1234")))
        {
            Assert.Equal("invalid_exact_evm_signature", await ErrorOfAsync(shortSig));
        }
        Assert.Equal(0, await chain.BalanceAsync(link.PayTo));
        Assert.Equal(1_000_000, await chain.BalanceAsync(wallet));
    }

    [Fact]
    public async Task The_official_facilitator_settles_a_contract_wallets_payment_the_gateway_verified()
    {
        var (wallet, owner) = await ContractWalletAsync();
        var link = await chain.CreateLinkAsync();
        var payment = new PaymentBuilder { Requirement = await RequirementAsync(link.Url), PayerKey = owner, From = wallet };

        using var response = await SendAsync(link.Url, payment.V2Header());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(10_000, await chain.BalanceAsync(link.PayTo));
        Assert.Equal(990_000, await chain.BalanceAsync(wallet));
    }

    [Fact]
    public async Task Contract_wallet_payments_past_an_addresss_allowance_get_429_before_the_node_is_asked_and_eoa_payments_are_not_counted()
    {
        var (wallet, owner) = await ContractWalletAsync();
        var settings = chain.GatewaySettings(chain.FacilitatorUrl);
        var rpc = await RpcProxy.StartAsync(chain.RpcUrl);
        await using var _ = rpc;
        // The wallet asked: isValidSignature(bytes32,bytes), selector 0x1626ba7e.
        var asked = 0;
        rpc.Fault = (method, body) =>
        {
            if (method == "eth_call" && body.Contains("1626ba7e", StringComparison.OrdinalIgnoreCase))
            {
                Interlocked.Increment(ref asked);
            }
            return RpcFault.Pass;
        };
        settings["X402:Networks:0:RpcUrl"] = rpc.Url;
        settings["X402:RateLimits:ContractWalletChecksPerIp:Requests"] = "2";
        settings["X402:RateLimits:ContractWalletChecksPerIp:PerSeconds"] = "3600";
        await using var gateway = await GatewayHost.StartAsync(settings);
        var link = await chain.CreateLinkAsync(gateway: gateway);
        var requirement = await RequirementAsync(link.Url);

        // Junk for the contract wallet (a stranger's key): each one is a question to the node, two are allowed.
        var answers = new List<string?>();
        for (var i = 0; i < 2; i++)
        {
            using var junk = await SendAsync(link.Url, new PaymentBuilder { Requirement = requirement, PayerKey = RandomNumberGenerator.GetBytes(32), From = wallet }.V2Header());
            answers.Add(await ErrorOfAsync(junk));
        }
        Assert.Equal(["invalid_exact_evm_signature", "invalid_exact_evm_signature"], answers);
        Assert.Equal(2, Volatile.Read(ref asked));

        // The third, even a good one, waits: 429 with Retry-After, the node not asked, nothing charged.
        using (var limited = await SendAsync(link.Url, new PaymentBuilder { Requirement = requirement, PayerKey = owner, From = wallet }.V2Header()))
        {
            await ProblemAssert.IsAsync(limited, 429, "rate_limited");
            Assert.True(limited.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        }
        Assert.Equal(2, Volatile.Read(ref asked));
        Assert.Equal(1_000_000, await chain.BalanceAsync(wallet));

        // The built-in facilitator's /verify and /settle count against the same allowance, whoever's key calls.
        foreach (var endpoint in new[] { "/facilitator/verify", "/facilitator/settle" })
        {
            using var viaFacilitator = await gateway.Admin.PostAsJsonAsync(endpoint,
                FacilitatorBody(new PaymentBuilder { Requirement = requirement, PayerKey = owner, From = wallet }.V2Header(), requirement));
            await ProblemAssert.IsAsync(viaFacilitator, 429, "rate_limited");
        }
        Assert.Equal(2, Volatile.Read(ref asked));

        // An ordinary wallet's payment needs no node to check it and is not limited by this.
        using (var eoaVerified = await gateway.Admin.PostAsJsonAsync("/facilitator/verify",
            FacilitatorBody(new PaymentBuilder { Requirement = requirement, PayerKey = chain.PayerKey }.V2Header(), requirement)))
        {
            Assert.True((await eoaVerified.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("isValid").GetBoolean());
        }
        using var eoa = await SendAsync(link.Url, new PaymentBuilder { Requirement = requirement, PayerKey = chain.PayerKey }.V2Header());
        Assert.Equal(HttpStatusCode.OK, eoa.StatusCode);
    }

    /// <summary>A facilitator request (x402 v2) for the payment a PAYMENT-SIGNATURE header carries.</summary>
    private static System.Text.Json.Nodes.JsonObject FacilitatorBody(string v2Header, System.Text.Json.Nodes.JsonObject requirement) => new()
    {
        ["x402Version"] = 2,
        ["paymentPayload"] = System.Text.Json.Nodes.JsonNode.Parse(Convert.FromBase64String(v2Header)),
        ["paymentRequirements"] = requirement.DeepClone(),
    };

    /// <summary>A new contract wallet holding 1 USDC, and its owner's key.</summary>
    private async Task<(EvmAddress Wallet, byte[] Owner)> ContractWalletAsync()
    {
        var owner = RandomNumberGenerator.GetBytes(32);
        // The payer funds it: it holds the tokens, and gets gas for the two transactions here.
        await chain.Rpc.CallAsync("anvil_setBalance", chain.Payer.ToLowerHex(), "0x56BC75E2D63100000");
        var output = await PeerProcess.RunNodeAsync(null, "deploy-wallet.mjs", chain.RpcUrl, chain.PayerKeyHex,
            Secp256k1.AddressOf(owner).ToString(), chain.Token.ToString(), "1000000");
        var wallet = EvmAddress.Parse(JsonDocument.Parse(output.Trim().Split('\n').Last()).RootElement.GetProperty("wallet").GetString()!);
        return (wallet, owner);
    }

    private static string WithSignature(string v2Header, string signature)
    {
        var payload = System.Text.Json.Nodes.JsonNode.Parse(Convert.FromBase64String(v2Header))!;
        payload["payload"]!["signature"] = signature;
        return PaymentBuilder.Encode(payload);
    }
}
