using Nethereum.ABI;

namespace X402Serverless.Core.Evm;

/// <summary>
/// EIP-1271: a contract wallet says whether a signature is its own by answering isValidSignature(hash, signature)
/// with the magic value 0x1626ba7e. The token checks the same (FiatToken v2.2's SignatureChecker) when it settles.
/// </summary>
public static class Erc1271
{
    private static readonly byte[] Magic = [0x16, 0x26, 0xba, 0x7e];

    private static readonly byte[] Selector = Crypto.Keccak256.Hash(System.Text.Encoding.ASCII.GetBytes("isValidSignature(bytes32,bytes)"))[..4];

    public static byte[] IsValidSignature(byte[] hash32, byte[] signature) =>
        [.. Selector, .. new ABIEncode().GetABIEncoded(new ABIValue("bytes32", hash32), new ABIValue("bytes", signature))];

    /// <summary>The call's return data is the magic value (a bytes4, left-aligned in its 32-byte word).</summary>
    public static bool Accepted(ReadOnlySpan<byte> returned) => returned.Length == 32 && returned[..4].SequenceEqual(Magic) && !returned[4..].ContainsAnyExcept((byte)0);
}
