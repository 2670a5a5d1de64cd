namespace X402Serverless.Core.Crypto;

/// <summary>
/// ecrecover and signing through bitcoin-core's libsecp256k1 (Secp256k1.Net, native): about six times less CPU than
/// the managed port per recovery and ten times less per signature (docs/dependencies.md). One context per thread, as the package itself does for its static API,
/// because a context's error callback is per instance. Where the native library cannot load (a platform the package
/// ships no binary for), <see cref="Available"/> is false and the caller recovers with the managed port instead.
/// </summary>
internal static class NativeSecp256k1
{
    private const int InternalSignatureLength = 65;
    private const int InternalKeyLength = 64;

    [ThreadStatic]
    private static Secp256k1Net.Secp256k1? _context;

    public static bool Available { get; } = Probe();

    /// <summary>The 65-byte uncompressed key (0x04 ‖ X ‖ Y) that signed <paramref name="hash32"/>, or false.</summary>
    public static bool TryRecover(ReadOnlySpan<byte> hash32, ReadOnlySpan<byte> compact64, int recId, Span<byte> uncompressed65)
    {
        var context = _context ??= new Secp256k1Net.Secp256k1();
        Span<byte> signature = stackalloc byte[InternalSignatureLength];
        Span<byte> key = stackalloc byte[InternalKeyLength];
        nuint length = 65;
        return context.EcdsaRecoverableSignatureParseCompact(signature, compact64, recId)
            && context.EcdsaRecover(key, signature, hash32)
            && context.EcPubkeySerialize(uncompressed65, ref length, key, Secp256k1Net.Secp256k1EcFlags.Uncompressed)
            && length == 65;
    }

    /// <summary>Signs with the library's default nonce (RFC 6979) and writes r‖s (low-s) and the recovery id.</summary>
    public static bool TrySign(ReadOnlySpan<byte> hash32, ReadOnlySpan<byte> privateKey32, Span<byte> compact64, out int recId)
    {
        var context = _context ??= new Secp256k1Net.Secp256k1();
        Span<byte> signature = stackalloc byte[InternalSignatureLength];
        recId = 0;
        return context.EcdsaSignRecoverable(signature, hash32, privateKey32)
            && context.EcdsaRecoverableSignatureSerializeCompact(compact64, out recId, signature);
    }

    private static bool Probe()
    {
        try
        {
            _context = new Secp256k1Net.Secp256k1();
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException or TypeInitializationException or PlatformNotSupportedException)
        {
            return false;
        }
    }
}
