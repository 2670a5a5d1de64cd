using System.Numerics;

namespace X402Serverless.Core.Evm;

/// <summary>Recursive Length Prefix encoding, as Ethereum serialises transactions.</summary>
public static class Rlp
{
    public static byte[] Bytes(ReadOnlySpan<byte> value)
    {
        if (value.Length == 1 && value[0] < 0x80)
        {
            return [value[0]];
        }
        return [.. Prefix(0x80, value.Length), .. value];
    }

    /// <summary>An unsigned integer: big-endian, no leading zeros, zero as the empty string.</summary>
    public static byte[] Number(BigInteger value)
    {
        if (value.Sign < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(value), "RLP integers are unsigned.");
        }
        return value.IsZero ? Bytes([]) : Bytes(value.ToByteArray(isUnsigned: true, isBigEndian: true));
    }

    public static byte[] List(params byte[][] encodedItems)
    {
        var length = encodedItems.Sum(i => i.Length);
        var output = new List<byte>(length + 9);
        output.AddRange(Prefix(0xc0, length));
        foreach (var item in encodedItems)
        {
            output.AddRange(item);
        }
        return [.. output];
    }

    private static byte[] Prefix(byte offset, int length)
    {
        if (length < 56)
        {
            return [(byte)(offset + length)];
        }
        var lengthBytes = new BigInteger(length).ToByteArray(isUnsigned: true, isBigEndian: true);
        return [(byte)(offset + 55 + lengthBytes.Length), .. lengthBytes];
    }
}
