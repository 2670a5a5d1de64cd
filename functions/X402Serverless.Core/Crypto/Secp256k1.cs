using NBitcoin.Secp256k1;
using X402Serverless.Core.Evm;

namespace X402Serverless.Core.Crypto;

/// <summary>
/// secp256k1 as Ethereum uses it: 65-byte r‖s‖v signatures, low-s only (as OpenZeppelin's ECDSA and
/// Circle's USDC enforce), and ecrecover to an address. The key's and the signature's parsing and checks are
/// NBitcoin.Secp256k1's port of libsecp256k1; the recovery (once per payment) and signing (once per settlement
/// transaction) are the native libsecp256k1 where it loads (<see cref="NativeSecp256k1"/>), the port otherwise.
/// </summary>
public static class Secp256k1
{
    /// <summary>Recovers the signer's address, or null when the signature is malformed or not canonical.</summary>
    public static EvmAddress? Recover(ReadOnlySpan<byte> hash32, ReadOnlySpan<byte> signature65) =>
        Recover(hash32, signature65, NativeSecp256k1.Available);

    /// <summary>As <see cref="Recover(ReadOnlySpan{byte}, ReadOnlySpan{byte})"/>, choosing the curve code (tests hold both to the same answers).</summary>
    internal static EvmAddress? Recover(ReadOnlySpan<byte> hash32, ReadOnlySpan<byte> signature65, bool native)
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
        if (native)
        {
            Span<byte> uncompressed = stackalloc byte[65];
            return NativeSecp256k1.TryRecover(hash32, signature65[..64], recId, uncompressed) ? AddressOfKey(uncompressed) : null;
        }
        return ECPubKey.TryRecover(Context.Instance, signature, hash32, out var key) ? AddressOf(key) : null;
    }

    /// <summary>Signs a 32-byte digest deterministically (RFC 6979, low-s), returning r‖s‖v with v = 27/28.</summary>
    public static byte[] Sign(ReadOnlySpan<byte> hash32, ReadOnlySpan<byte> privateKey) => Sign(hash32, privateKey, NativeSecp256k1.Available);

    /// <summary>As <see cref="Sign(ReadOnlySpan{byte}, ReadOnlySpan{byte})"/>, choosing the curve code (tests hold both to the same bytes).</summary>
    internal static byte[] Sign(ReadOnlySpan<byte> hash32, ReadOnlySpan<byte> privateKey, bool native)
    {
        if (hash32.Length != 32)
        {
            throw new ArgumentException("A digest is 32 bytes.", nameof(hash32));
        }
        using var key = PrivateKey(privateKey);
        var output = new byte[65];
        int recId;
        if (native)
        {
            // The same RFC 6979 nonce and low-s result as the port, in about a tenth of the CPU (docs/dependencies.md).
            if (!NativeSecp256k1.TrySign(hash32, privateKey, output.AsSpan(0, 64), out recId))
            {
                throw new InvalidOperationException("Could not sign the digest.");
            }
        }
        else
        {
            if (!key.TrySignRecoverable(hash32, out var signature) || signature is null)
            {
                throw new InvalidOperationException("Could not sign the digest.");
            }
            signature.WriteToSpanCompact(output.AsSpan(0, 64), out recId);
        }
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
        Span<byte> uncompressed = stackalloc byte[65];
        key.WriteToSpan(false, uncompressed, out _);
        return AddressOfKey(uncompressed);
    }

    /// <summary>The address of an uncompressed key, 0x04 ‖ X ‖ Y: the last 20 bytes of keccak256(X ‖ Y).</summary>
    private static EvmAddress AddressOfKey(ReadOnlySpan<byte> uncompressed)
    {
        Span<byte> hash = stackalloc byte[32];
        Keccak256.Hash(uncompressed[1..], hash);
        return new EvmAddress(hash[12..].ToArray());
    }
}
