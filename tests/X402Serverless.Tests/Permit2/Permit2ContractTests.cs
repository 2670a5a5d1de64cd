using System.Text.Json;
using X402Serverless.Core.Crypto;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Permit2;

/// <summary>
/// The tests' own Permit2 and x402 exact Permit2 proxy (tests/peers/contracts), placed at their canonical addresses,
/// checked against the reference: the official client signs a Permit2 payment and the official facilitator verifies
/// (simulating the proxy's settle) and settles it, and the tokens reach payTo.
/// </summary>
[Collection(ChainGroup.Name)]
public sealed class Permit2ContractTests(ChainFixture chain)
{
    [Fact]
    public async Task The_official_facilitator_settles_the_official_clients_permit2_payment_through_the_tests_contracts()
    {
        var payerKey = await chain.Permit2PayerAsync();
        var payTo = ChainFixture.NewAddress();

        var result = await FacilitateAsync(payerKey, payTo, 10_000);

        Assert.True(result.GetProperty("verify").GetProperty("isValid").GetBoolean(), result.GetProperty("verify").ToString());
        var settle = result.GetProperty("settle");
        Assert.True(settle.GetProperty("success").GetBoolean(), settle.ToString());
        Assert.Equal(1, await chain.Rpc.ReceiptStatusAsync(settle.GetProperty("transaction").GetString()!));
        Assert.Equal(10_000, await chain.BalanceAsync(payTo));
        Assert.Equal(990_000, await chain.BalanceAsync(Secp256k1.AddressOf(payerKey)));
    }

    [Fact]
    public async Task Without_an_allowance_to_permit2_the_official_facilitator_refuses_and_nothing_moves()
    {
        var payerKey = await chain.Permit2PayerAsync(approve: "none");
        var payTo = ChainFixture.NewAddress();

        var result = await FacilitateAsync(payerKey, payTo, 10_000);

        // The simulated settle reverts; the reference's finer diagnosis (allowance, balance) reads through Multicall3,
        // which this chain has at its canonical address (as public chains do), so it names the missing allowance.
        Assert.Equal("permit2_allowance_required", result.GetProperty("verify").GetProperty("invalidReason").GetString());
        Assert.False(result.GetProperty("settle").GetProperty("success").GetBoolean());
        Assert.Equal(0, await chain.BalanceAsync(payTo));
    }

    private async Task<JsonElement> FacilitateAsync(byte[] payerKey, Core.Evm.EvmAddress payTo, long atomic)
    {
        var output = await PeerProcess.RunNodeAsync(null, "permit2-facilitate.mjs", chain.FacilitatorUrl, Hex.Encode(payerKey),
            ChainFixture.V2Network, chain.Token.ToString(), payTo.ToString(), atomic.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return JsonDocument.Parse(output.Trim().Split('\n').Last()).RootElement.Clone();
    }
}
