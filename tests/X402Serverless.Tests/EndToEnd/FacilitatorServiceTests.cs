using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.EndToEnd;

/// <summary>Our built-in facilitator serving other x402 servers over the standard facilitator API.</summary>
[Collection(ChainGroup.Name)]
public sealed class FacilitatorServiceTests(ChainFixture chain)
{
    [Fact]
    public async Task The_official_express_middleware_settles_through_our_facilitator()
    {
        var payTo = ChainFixture.NewAddress();
        await using var express = PeerProcess.Start("node", RepoPaths.Peers, "express-server.mjs",
            chain.Gateway.BaseUrl + "/facilitator", GatewayHost.AdminKey, ChainFixture.V2Network, chain.Token.ToString(), payTo.ToString());
        var port = (await express.WaitForLineAsync("listening", TimeSpan.FromSeconds(60))).Split(' ')[1];
        var payerBefore = await chain.BalanceAsync(chain.Payer);

        var output = await PeerProcess.RunNodeAsync(new Dictionary<string, string>
        {
            ["PAYER_KEY"] = chain.PayerKeyHex, ["TOKEN"] = chain.Token.ToString(), ["NETWORK"] = ChainFixture.V2Network,
        }, "pay-v2.mjs", $"http://127.0.0.1:{port}/weather");
        var result = JsonDocument.Parse(output.Trim().Split('\n').Last()).RootElement;

        Assert.Equal(200, result.GetProperty("status").GetInt32());
        Assert.Contains("sunny", result.GetProperty("body").GetString(), StringComparison.Ordinal);
        var tx = result.GetProperty("paymentResponse").GetProperty("transaction").GetString()!;
        var sent = await chain.Rpc.CallAsync("eth_getTransactionByHash", tx);
        Assert.Equal("0x70997970c51812dc3a010c7d01b50e0d17dc79c8", sent.GetProperty("from").GetString()); // our gas wallet
        Assert.Equal(payerBefore - 10_000, await chain.BalanceAsync(chain.Payer));
        Assert.Equal(10_000, await chain.BalanceAsync(payTo));
    }

    [Fact]
    public async Task Supported_lists_the_configured_chains_and_our_signer()
    {
        using var client = chain.Gateway.Client();
        var supported = await client.GetFromJsonAsync<JsonElement>("/facilitator/supported");
        var kinds = supported.GetProperty("kinds").EnumerateArray().Select(k => (k.GetProperty("x402Version").GetInt32(), k.GetProperty("network").GetString())).ToList();
        Assert.Contains((2, "eip155:84532"), kinds);
        Assert.Contains((1, "base-sepolia"), kinds);
        Assert.Equal("0x70997970C51812dc3A010C7d01b50e0d17dc79C8", supported.GetProperty("signers").GetProperty("eip155:*")[0].GetString());
    }

    [Fact]
    public async Task Settling_through_our_facilitator_needs_a_key()
    {
        using var client = chain.Gateway.Client();
        using var response = await client.PostAsJsonAsync("/facilitator/settle", new { x402Version = 2, paymentPayload = new { }, paymentRequirements = new { } });
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_malformed_facilitator_request_gets_400_not_500()
    {
        using var response = await chain.Gateway.Admin.PostAsync("/facilitator/verify", new StringContent("{nope", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var empty = await chain.Gateway.Admin.PostAsJsonAsync("/facilitator/verify", new { x402Version = 2, paymentPayload = new { }, paymentRequirements = new { scheme = "exact" } });
        var verdict = await empty.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(verdict.GetProperty("isValid").GetBoolean());
        Assert.Equal("invalid_payload", verdict.GetProperty("invalidReason").GetString());
    }
}
