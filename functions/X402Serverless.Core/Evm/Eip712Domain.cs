using System.Numerics;
using System.Text;
using X402Serverless.Core.Crypto;

namespace X402Serverless.Core.Evm;

/// <summary>An EIP-712 domain of a token: name, version, chain id, verifying contract. Its separator is computed once.</summary>
public sealed class Eip712Domain
{
    // keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
    private static readonly byte[] DomainTypeHash =
        Keccak256.Hash(Encoding.ASCII.GetBytes("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"));

    public Eip712Domain(string name, string version, long chainId, EvmAddress verifyingContract)
    {
        Name = name;
        Version = version;
        ChainId = chainId;
        VerifyingContract = verifyingContract;
        Separator = Keccak256.Hash(
            DomainTypeHash,
            Keccak256.Hash(Encoding.UTF8.GetBytes(name)),
            Keccak256.Hash(Encoding.UTF8.GetBytes(version)),
            AbiWord.UInt256(new BigInteger(chainId)),
            AbiWord.Address(verifyingContract));
    }

    public string Name { get; }

    public string Version { get; }

    public long ChainId { get; }

    public EvmAddress VerifyingContract { get; }

    public byte[] Separator { get; }

    /// <summary>keccak256(0x1901 ‖ domainSeparator ‖ structHash).</summary>
    public byte[] Digest(byte[] structHash) => Keccak256.Hash([0x19, 0x01], Separator, structHash);
}
