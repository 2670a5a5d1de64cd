namespace X402Serverless.Core.Evm;

/// <summary>
/// EIP-6492: the signature of a contract wallet that is not deployed yet. It wraps (factory, factoryCalldata,
/// innerSignature) as abi.encode(address, bytes, bytes) followed by a 32-byte magic suffix; calling the factory with
/// the calldata deploys the wallet, which then accepts the inner signature (EIP-1271).
/// </summary>
public static class Erc6492
{
    private static readonly byte[] Suffix = Convert.FromHexString("6492649264926492649264926492649264926492649264926492649264926492");

    /// <summary>Whether the signature carries the magic suffix (whatever comes before it).</summary>
    public static bool IsWrapped(ReadOnlySpan<byte> signature) => signature.Length >= Suffix.Length && signature[^Suffix.Length..].SequenceEqual(Suffix);

    /// <summary>
    /// The wrapper's parts, or null when the signature is not wrapped or its encoding is not a strict
    /// abi.encode(address, bytes, bytes) (offsets and lengths inside the wrapper, the address word's high bytes zero).
    /// </summary>
    public static Erc6492Signature? Unwrap(ReadOnlySpan<byte> signature)
    {
        if (!IsWrapped(signature))
        {
            return null;
        }
        var body = signature[..^Suffix.Length];
        if (body.Length < 96 || body[..12].ContainsAnyExcept((byte)0))
        {
            return null;
        }
        var factory = new EvmAddress(body[12..32].ToArray());
        return AbiReader.Bytes(body, 32) is { } calldata && AbiReader.Bytes(body, 64) is { } inner ? new Erc6492Signature(factory, calldata, inner) : null;
    }
}

/// <summary>An unwrapped EIP-6492 signature: the factory call that deploys the wallet, and the wallet's own signature.</summary>
public sealed record Erc6492Signature(EvmAddress Factory, byte[] FactoryCalldata, byte[] Inner);
