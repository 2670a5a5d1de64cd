using System.Numerics;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;

namespace X402Serverless.Tests.Crypto;

/// <summary>The examples of the RLP specification (Ethereum yellow paper, appendix B).</summary>
public sealed class RlpTests
{
    [Fact]
    public void Strings_lists_and_integers_encode_as_specified()
    {
        Assert.Equal("0x83646f67", Hex.Encode(Rlp.Bytes("dog"u8)));
        Assert.Equal("0xc88363617483646f67", Hex.Encode(Rlp.List(Rlp.Bytes("cat"u8), Rlp.Bytes("dog"u8))));
        Assert.Equal("0x80", Hex.Encode(Rlp.Bytes([])));
        Assert.Equal("0xc0", Hex.Encode(Rlp.List()));
        Assert.Equal("0x80", Hex.Encode(Rlp.Number(0)));
        Assert.Equal("0x0f", Hex.Encode(Rlp.Number(15)));
        Assert.Equal("0x820400", Hex.Encode(Rlp.Number(1024)));
        Assert.Equal("0x00", Hex.Encode(Rlp.Bytes([0x00])));
    }

    [Fact]
    public void Long_strings_carry_a_length_of_length()
    {
        var text = "Lorem ipsum dolor sit amet, consectetur adipisicing elit"u8.ToArray(); // 56 bytes
        var encoded = Rlp.Bytes(text);
        Assert.Equal(0xb8, encoded[0]);
        Assert.Equal(56, encoded[1]);
        Assert.Equal(text, encoded[2..]);
    }

    [Fact]
    public void Negative_numbers_are_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Rlp.Number(BigInteger.MinusOne));
}
