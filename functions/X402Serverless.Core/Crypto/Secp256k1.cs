using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.EC;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC;
using X402Serverless.Core.Evm;

namespace X402Serverless.Core.Crypto;

/// <summary>
/// secp256k1 as Ethereum uses it: 65-byte r‖s‖v signatures, low-s only (as OpenZeppelin's ECDSA and
/// Circle's USDC enforce), and ecrecover to an address.
/// </summary>
public static class Secp256k1
{
    // The curve object and generator are built once; BouncyCastle caches the generator's
    // precomputation tables on the point itself, so reusing it keeps ecrecover cheap.
    private static readonly X9ECParameters Params = CustomNamedCurves.GetByName("secp256k1");
    private static readonly ECDomainParameters Domain = new(Params.Curve, Params.G, Params.N, Params.H);
    private static readonly BigInteger HalfN = Params.N.ShiftRight(1);

    /// <summary>Recovers the signer's address, or null when the signature is malformed or not canonical.</summary>
    public static EvmAddress? Recover(ReadOnlySpan<byte> hash32, ReadOnlySpan<byte> signature65)
    {
        if (hash32.Length != 32 || signature65.Length != 65)
        {
            return null;
        }
        var v = signature65[64];
        var recId = v >= 27 ? v - 27 : v;
        if (recId is not (0 or 1))
        {
            return null;
        }
        var r = new BigInteger(1, signature65[..32].ToArray());
        var s = new BigInteger(1, signature65[32..64].ToArray());
        if (r.SignValue <= 0 || r.CompareTo(Params.N) >= 0 || s.SignValue <= 0 || s.CompareTo(HalfN) > 0)
        {
            return null;
        }

        var encoded = new byte[33];
        encoded[0] = (byte)(0x02 | recId);
        var rBytes = r.ToByteArrayUnsigned();
        rBytes.CopyTo(encoded, 33 - rBytes.Length);
        ECPoint point;
        try
        {
            point = Params.Curve.DecodePoint(encoded);
        }
        catch (ArgumentException)
        {
            return null; // r is not the x of a curve point
        }

        var n = Params.N;
        var e = new BigInteger(1, hash32.ToArray());
        var rInv = r.ModInverse(n);
        var u1 = n.Subtract(e).Multiply(rInv).Mod(n);
        var u2 = s.Multiply(rInv).Mod(n);
        var q = ECAlgorithms.SumOfTwoMultiplies(Params.G, u1, point, u2).Normalize();
        if (q.IsInfinity)
        {
            return null;
        }
        return AddressOf(q);
    }

    /// <summary>Signs a 32-byte digest deterministically (RFC 6979, low-s), returning r‖s‖v with v = 27/28.</summary>
    public static byte[] Sign(ReadOnlySpan<byte> hash32, ReadOnlySpan<byte> privateKey)
    {
        var d = new BigInteger(1, privateKey.ToArray());
        var signer = new ECDsaSigner(new HMacDsaKCalculator(new Sha256Digest()));
        signer.Init(true, new ECPrivateKeyParameters(d, Domain));
        var hash = hash32.ToArray();
        var rs = signer.GenerateSignature(hash);
        var r = rs[0];
        var s = rs[1];
        if (s.CompareTo(HalfN) > 0)
        {
            s = Params.N.Subtract(s);
        }
        var expected = AddressOf(privateKey);
        var signature = new byte[65];
        Pad32(r).CopyTo(signature, 0);
        Pad32(s).CopyTo(signature, 32);
        for (byte recId = 0; recId < 2; recId++)
        {
            signature[64] = (byte)(27 + recId);
            if (Recover(hash, signature) == expected)
            {
                return signature;
            }
        }
        throw new InvalidOperationException("Could not derive the recovery id.");
    }

    public static EvmAddress AddressOf(ReadOnlySpan<byte> privateKey)
    {
        var d = new BigInteger(1, privateKey.ToArray());
        return AddressOf(Params.G.Multiply(d).Normalize());
    }

    private static EvmAddress AddressOf(ECPoint q)
    {
        var uncompressed = q.GetEncoded(false); // 0x04 ‖ X ‖ Y
        var hash = Keccak256.Hash(uncompressed.AsSpan(1));
        return new EvmAddress(hash.AsSpan(12).ToArray());
    }

    private static byte[] Pad32(BigInteger value)
    {
        var raw = value.ToByteArrayUnsigned();
        var padded = new byte[32];
        raw.CopyTo(padded, 32 - raw.Length);
        return padded;
    }
}
