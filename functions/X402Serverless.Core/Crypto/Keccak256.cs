using Org.BouncyCastle.Crypto.Digests;

namespace X402Serverless.Core.Crypto;

/// <summary>Ethereum's Keccak-256 (the pre-FIPS padding, not SHA3-256).</summary>
public static class Keccak256
{
    public static byte[] Hash(ReadOnlySpan<byte> data)
    {
        var digest = new KeccakDigest(256);
        digest.BlockUpdate(data.ToArray(), 0, data.Length);
        var output = new byte[32];
        digest.DoFinal(output, 0);
        return output;
    }

    public static byte[] Hash(params byte[][] parts)
    {
        var digest = new KeccakDigest(256);
        foreach (var part in parts)
        {
            digest.BlockUpdate(part, 0, part.Length);
        }
        var output = new byte[32];
        digest.DoFinal(output, 0);
        return output;
    }
}
