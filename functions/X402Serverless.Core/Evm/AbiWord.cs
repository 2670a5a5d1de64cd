using System.Numerics;

namespace X402Serverless.Core.Evm;

/// <summary>32-byte ABI words for hashing and call data.</summary>
public static class AbiWord
{
    public static byte[] UInt256(BigInteger value)
    {
        if (value.Sign < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(value), "uint256 cannot be negative.");
        }
        var raw = value.ToByteArray(isUnsigned: true, isBigEndian: true);
        if (raw.Length > 32)
        {
            throw new ArgumentOutOfRangeException(nameof(value), "Value exceeds uint256.");
        }
        var word = new byte[32];
        raw.CopyTo(word, 32 - raw.Length);
        return word;
    }

    public static byte[] Address(EvmAddress address)
    {
        var word = new byte[32];
        address.Bytes.CopyTo(word.AsSpan(12));
        return word;
    }

    public static byte[] Bytes32(byte[] value)
    {
        if (value.Length != 32)
        {
            throw new ArgumentException("Expected 32 bytes.", nameof(value));
        }
        return value;
    }
}
