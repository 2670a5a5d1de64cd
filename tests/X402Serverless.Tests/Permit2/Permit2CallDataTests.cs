using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Protocol;

namespace X402Serverless.Tests.Permit2;

/// <summary>The settle call data the gateway sends and reads back as proof, and the payload shapes it takes.</summary>
public sealed class Permit2CallDataTests
{
    private static readonly Permit2Authorization Permit = new(
        EvmAddress.Parse("0x209693Bc6afc0C5328bA36FaF03C514EF312287C"), EvmAddress.Parse("0x036CbD53842c5426634e7929541eC2318f3dCF7e"),
        10_000, Permit2Contracts.ExactProxy, BigInteger.Parse("98765432109876543210"), 1_800_000_000,
        EvmAddress.Parse("0x90F79bf6EB2c4f870365E785982E1f101E93b906"), 0);

    [Fact]
    public void A_settle_call_is_recognised_as_paying_exactly_its_own_permit()
    {
        var input = Permit2Contracts.Settle(Permit, RandomNumberGenerator.GetBytes(65));

        Assert.True(IsSettleOf(input, Permit));
        Assert.False(IsSettleOf(input, Permit with { Nonce = Permit.Nonce + 1 }));
        Assert.False(IsSettleOf(input, Permit with { From = Permit.To }));
        Assert.False(IsSettleOf(input, Permit with { To = Permit.From }));
        Assert.False(IsSettleOf(input, Permit with { Amount = 9_999 }));
        Assert.False(IsSettleOf(input.AsSpan(0, 100).ToArray(), Permit));
        Assert.False(IsSettleOf([], Permit));

        // settleWithPermit: the EIP-2612 permit's five words come first, then the same arguments.
        var selector = Keccak256.Hash(Encoding.ASCII.GetBytes(
            "settleWithPermit((uint256,uint256,bytes32,bytes32,uint8),((address,uint256),uint256,uint256),address,(address,uint256),bytes)"))[..4];
        byte[] withPermit = [.. selector, .. new byte[5 * 32], .. input.AsSpan(4)];
        Assert.True(IsSettleOf(withPermit, Permit));
    }

    [Fact]
    public void A_payload_with_both_shapes_or_a_malformed_permit_is_refused()
    {
        const string accepted = """{"scheme":"exact","network":"eip155:84532"}""";
        const string permit = """{"from":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","permitted":{"token":"0x036CbD53842c5426634e7929541eC2318f3dCF7e","amount":"10000"},"spender":"0x402085c248EeA27D92E8b30b2C58ed07f9E20001","nonce":"1","deadline":"1800000000","witness":{"to":"0x90F79bf6EB2c4f870365E785982E1f101E93b906","validAfter":"0"}}""";
        string Header(string payload) => Convert.ToBase64String(Encoding.UTF8.GetBytes($$"""{"x402Version":2,"accepted":{{accepted}},"payload":{{payload}}}"""));
        var sig = "\"signature\":\"0x" + new string('1', 130) + "\"";

        var ok = PaymentHeaderDecoder.Decode(Header("{" + sig + ",\"permit2Authorization\":" + permit + "}"), 2);
        Assert.NotNull(ok.Payment?.Permit2);
        Assert.Equal(BigInteger.One, ok.Payment!.Permit2!.Nonce);
        Assert.Equal(new BigInteger(1_800_000_001), ok.Payment.Authorization.ValidBefore);

        var both = PaymentHeaderDecoder.Decode(Header("{" + sig + ",\"permit2Authorization\":" + permit + ",\"authorization\":{}}"), 2);
        Assert.Equal(ReasonCodes.InvalidPayload, both.Reason);
        foreach (var bad in new[] { permit.Replace("\"10000\"", "10000"), permit.Replace("\"1\"", "\"-1\""), permit.Replace(",\"witness\":{\"to\":\"0x90F79bf6EB2c4f870365E785982E1f101E93b906\",\"validAfter\":\"0\"}", "") })
        {
            Assert.Equal(ReasonCodes.InvalidPayload, PaymentHeaderDecoder.Decode(Header("{" + sig + ",\"permit2Authorization\":" + bad + "}"), 2).Reason);
        }
    }

    private static bool IsSettleOf(byte[] input, Permit2Authorization p) =>
        Permit2Contracts.IsSettleOf(input, p.Token, p.From, p.To, p.Amount, p.Nonce);
}
