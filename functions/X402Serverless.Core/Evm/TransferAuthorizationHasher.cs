using System.Text;
using X402Serverless.Core.Crypto;

namespace X402Serverless.Core.Evm;

/// <summary>EIP-712 hashing of an EIP-3009 TransferWithAuthorization.</summary>
public static class TransferAuthorizationHasher
{
    private static readonly byte[] TypeHash = Keccak256.Hash(Encoding.ASCII.GetBytes(
        "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"));

    public static byte[] StructHash(TransferAuthorization a) => Keccak256.Hash(
        TypeHash,
        AbiWord.Address(a.From),
        AbiWord.Address(a.To),
        AbiWord.UInt256(a.Value),
        AbiWord.UInt256(a.ValidAfter),
        AbiWord.UInt256(a.ValidBefore),
        AbiWord.Bytes32(a.Nonce));

    public static byte[] Digest(Eip712Domain domain, TransferAuthorization a) => domain.Digest(StructHash(a));

    /// <summary>Signs an authorization (used by tests and by anything acting as a payer).</summary>
    public static byte[] Sign(Eip712Domain domain, TransferAuthorization a, ReadOnlySpan<byte> privateKey) =>
        Secp256k1.Sign(Digest(domain, a), privateKey);
}
