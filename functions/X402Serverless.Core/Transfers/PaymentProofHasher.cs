using System.Numerics;
using System.Text;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;

namespace X402Serverless.Core.Transfers;

/// <summary>
/// EIP-712 hashing of the TXID draft's v2 PaymentProof: domain {name "x402 Payment Proof", version "1", chainId},
/// message {txRef, from, resource{url, description, mimeType}, accepted{scheme, network, amount, asset, payTo,
/// maxTimeoutSeconds}}. Hand-written like the EIP-3009 hasher beside it (docs/dependencies.md).
/// </summary>
public static class PaymentProofHasher
{
    public const string DomainName = "x402 Payment Proof";
    public const string DomainVersion = "1";

    private const string AcceptedType = "Accepted(string scheme,string network,string amount,string asset,address payTo,uint256 maxTimeoutSeconds)";
    private const string ResourceType = "Resource(string url,string description,string mimeType)";

    // Referenced struct types follow the primary one in alphabetical order (EIP-712 encodeType).
    private static readonly byte[] ProofTypeHash = Keccak256.Hash(Encoding.ASCII.GetBytes(
        "PaymentProof(string txRef,address from,Resource resource,Accepted accepted)" + AcceptedType + ResourceType));

    private static readonly byte[] AcceptedTypeHash = Keccak256.Hash(Encoding.ASCII.GetBytes(AcceptedType));
    private static readonly byte[] ResourceTypeHash = Keccak256.Hash(Encoding.ASCII.GetBytes(ResourceType));
    private static readonly byte[] DomainTypeHash = Keccak256.Hash(Encoding.ASCII.GetBytes("EIP712Domain(string name,string version,uint256 chainId)"));

    public static byte[] Digest(long chainId, TxidProof proof)
    {
        var domain = Keccak256.Hash(DomainTypeHash, Text(DomainName), Text(DomainVersion), AbiWord.UInt256(new BigInteger(chainId)));
        var resource = Keccak256.Hash(ResourceTypeHash, Text(proof.ResourceUrl), Text(proof.ResourceDescription), Text(proof.ResourceMimeType));
        var accepted = Keccak256.Hash(AcceptedTypeHash, Text(proof.Scheme), Text(proof.Network), Text(proof.Amount), Text(proof.Asset),
            AbiWord.Address(proof.PayTo), AbiWord.UInt256(new BigInteger(proof.MaxTimeoutSeconds)));
        var message = Keccak256.Hash(ProofTypeHash, Text(proof.TxRef), AbiWord.Address(proof.From), resource, accepted);
        return Keccak256.Hash([0x19, 0x01], domain, message);
    }

    /// <summary>The wallet that signed the proof, or null when the signature recovers none.</summary>
    public static EvmAddress? Signer(long chainId, TxidProof proof) => Secp256k1.Recover(Digest(chainId, proof), proof.Signature);

    /// <summary>Signs a proof (tests, and anything acting as a payer).</summary>
    public static byte[] Sign(long chainId, TxidProof proof, ReadOnlySpan<byte> privateKey) => Secp256k1.Sign(Digest(chainId, proof), privateKey);

    private static byte[] Text(string value) => Keccak256.Hash(Encoding.UTF8.GetBytes(value));
}
