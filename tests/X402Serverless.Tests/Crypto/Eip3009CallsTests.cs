using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;

namespace X402Serverless.Tests.Crypto;

/// <summary>The token calls' selectors and word layout, pinned (transferWithAuthorization is pinned inside the signed transaction vector).</summary>
public sealed class Eip3009CallsTests
{
    private static readonly EvmAddress Payer = EvmAddress.Parse("0x857b06519E91e3A54538791bDbb0E22373e36b66");

    [Fact]
    public void AuthorizationState_is_selector_address_word_and_nonce() =>
        Assert.Equal(
            "0xe94a0102000000000000000000000000857b06519e91e3a54538791bdbb0e22373e36b66f3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480",
            Hex.Encode(Eip3009Calls.AuthorizationState(Payer, Hex.Decode("0xf3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480"))));

    [Fact]
    public void BalanceOf_is_selector_and_address_word() =>
        Assert.Equal("0x70a08231000000000000000000000000857b06519e91e3a54538791bdbb0e22373e36b66", Hex.Encode(Eip3009Calls.BalanceOf(Payer)));

    [Fact]
    public void TransferWithAuthorization_takes_v_as_27_or_28_whichever_form_it_was_signed_in()
    {
        var authorization = new TransferAuthorization(Payer, Payer, 1, 0, 1, new byte[32]);
        var signature = new byte[65];
        signature[64] = 1;
        var data = Eip3009Calls.TransferWithAuthorization(authorization, signature);
        Assert.Equal("0xe3ee160e", Hex.Encode(data.AsSpan(0, 4)));
        Assert.Equal(4 + 9 * 32, data.Length);
        Assert.Equal(28, data[4 + 7 * 32 - 1]);
    }
}
