using System.Numerics;
using Nethereum.ABI.EIP712;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;

namespace X402Serverless.Tests.Crypto;

/// <summary>
/// The hot path hashes EIP-3009 authorizations with its own fixed-layout encoder (1.6 KB a digest, against Nethereum's
/// generic encoder's 213 KB); Nethereum's encoder is the reference it must agree with.
/// </summary>
public sealed class Eip712LibraryAgreementTests
{
    public static TheoryData<string, string, long, string, string, string, long, string> Vectors => new()
    {
        { "USDC", "2", 84532, "0x036CbD53842c5426634e7929541eC2318f3dCF7e", "0x857b06519E91e3A54538791bDbb0E22373e36b66", "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", 10_000, "0xf3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480" },
        { "USD Coin", "2", 8453, "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", 1, "0x0000000000000000000000000000000000000000000000000000000000000001" },
        { "Ünïcode Tökén", "10", 1, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0x0000000000000000000000000000000000000001", "0xffffffffffffffffffffffffffffffffffffffff", long.MaxValue, "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff" },
    };

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Separator_and_digest_match_nethereum(string name, string version, long chainId, string contract, string from, string to, long value, string nonce)
    {
        var domain = new Eip712Domain(name, version, chainId, EvmAddress.Parse(contract));
        var authorization = new TransferAuthorization(EvmAddress.Parse(from), EvmAddress.Parse(to), value, 1_740_672_089, 1_740_672_154, Hex.Decode(nonce));

        var reference = Eip712TypedDataEncoder.Current.CalculateTypedDataHashes(Typed(domain, authorization));

        Assert.Equal(Hex.Encode(reference.DomainHash), Hex.Encode(domain.Separator));
        Assert.Equal(Hex.Encode(reference.TypedDataHash), Hex.Encode(TransferAuthorizationHasher.Digest(domain, authorization)));
    }

    private static TypedDataRaw Typed(Eip712Domain domain, TransferAuthorization a) => new()
    {
        PrimaryType = "TransferWithAuthorization",
        Types = new Dictionary<string, MemberDescription[]>
        {
            ["EIP712Domain"] = [Member("name", "string"), Member("version", "string"), Member("chainId", "uint256"), Member("verifyingContract", "address")],
            ["TransferWithAuthorization"] = [Member("from", "address"), Member("to", "address"), Member("value", "uint256"),
                Member("validAfter", "uint256"), Member("validBefore", "uint256"), Member("nonce", "bytes32")],
        },
        DomainRawValues = [Value("string", domain.Name), Value("string", domain.Version), Value("uint256", new BigInteger(domain.ChainId)),
            Value("address", domain.VerifyingContract.ToLowerHex())],
        Message = [Value("address", a.From.ToLowerHex()), Value("address", a.To.ToLowerHex()), Value("uint256", a.Value),
            Value("uint256", a.ValidAfter), Value("uint256", a.ValidBefore), Value("bytes32", a.Nonce)],
    };

    private static MemberDescription Member(string name, string type) => new() { Name = name, Type = type };

    private static MemberValue Value(string type, object value) => new() { TypeName = type, Value = value };
}
