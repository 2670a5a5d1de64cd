using Org.BouncyCastle.Crypto.Digests;

namespace X402Serverless.Core.Crypto;

/// <summary>Ethereum's Keccak-256 (the pre-FIPS padding, not SHA3-256), on BouncyCastle's digest.</summary>
public static class Keccak256
{
    public static byte[] Hash(ReadOnlySpan<byte> data)
    {
        var output = new byte[32];
        Hash(data, output);
        return output;
    }

    /// <summary>Hashes into a caller's 32-byte buffer, so the hot path (an address from a recovered key) allocates nothing here.</summary>
    public static void Hash(ReadOnlySpan<byte> data, Span<byte> output32)
    {
        var digest = new KeccakDigest(256);
        digest.BlockUpdate(data);
        digest.DoFinal(output32);
    }

    public static byte[] Hash(params byte[][] parts)
    {
        var digest = new KeccakDigest(256);
        foreach (var part in parts)
        {
            digest.BlockUpdate(part);
        }
        var output = new byte[32];
        digest.DoFinal(output);
        return output;
    }
}
