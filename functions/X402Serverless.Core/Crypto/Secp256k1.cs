using NBitcoin.Secp256k1;
using X402Serverless.Core.Evm;

namespace X402Serverless.Core.Crypto;

/// <summary>
/// secp256k1 as Ethereum uses it: 65-byte r‖s‖v signatures, low-s only (as OpenZeppelin's ECDSA and
/// Circle's USDC enforce), and ecrecover to an address. The curve arithmetic is NBitcoin.Secp256k1's port of
/// libsecp256k1: constant-time signing, and a recovery that allocates a few objects rather than hundreds of KB.
/// </summary>
public static class Secp256k1
{
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
        // Parsing refuses r or s ≥ n; zero and high s are refused here, so a signature's malleable twin never counts.
        if (!SecpRecoverableECDSASignature.TryCreateFromCompact(signature65[..64], recId, out var signature))
        {
            return null;
        }
        var (r, s, _) = signature;
        if (r.IsZero || s.IsZero || s.IsHigh)
        {
            return null;
        }
        return ECPubKey.TryRecover(Context.Instance, signature, hash32, out var key) ? AddressOf(key) : null;
    }

    /// <summary>Signs a 32-byte digest deterministically (RFC 6979, low-s), returning r‖s‖v with v = 27/28.</summary>
    public static byte[] Sign(ReadOnlySpan<byte> hash32, ReadOnlySpan<byte> privateKey)
    {
        using var key = PrivateKey(privateKey);
        if (!key.TrySignRecoverable(hash32, out var signature) || signature is null)
        {
            throw new InvalidOperationException("Could not sign the digest.");
        }
        var output = new byte[65];
        signature.WriteToSpanCompact(output.AsSpan(0, 64), out var recId);
        output[64] = (byte)(27 + recId);
        return output;
    }

    public static EvmAddress AddressOf(ReadOnlySpan<byte> privateKey)
    {
        using var key = PrivateKey(privateKey);
        return AddressOf(key.CreatePubKey());
    }

    private static ECPrivKey PrivateKey(ReadOnlySpan<byte> privateKey) =>
        privateKey.Length == 32 && ECPrivKey.TryCreate(privateKey, out var key)
            ? key
            : throw new ArgumentException("A secp256k1 private key is 32 bytes, non-zero and below the curve order.", nameof(privateKey));

    private static EvmAddress AddressOf(ECPubKey key)
    {
        Span<byte> uncompressed = stackalloc byte[65]; // 0x04 ‖ X ‖ Y
        key.WriteToSpan(false, uncompressed, out _);
        Span<byte> hash = stackalloc byte[32];
        Keccak256.Hash(uncompressed[1..], hash);
        return new EvmAddress(hash[12..].ToArray());
    }
}
