using Microsoft.Extensions.Time.Testing;
using System.Numerics;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Networks;
using X402Serverless.Core.Protocol;
using X402Serverless.Tests.Support;
using X402Serverless.Core.Money;

namespace X402Serverless.Tests.Crypto;

/// <summary>Known answers: the x402 spec's example signature, and vectors from an independent EIP-712 implementation.</summary>
public sealed class Eip712VectorTests
{
    private static readonly Eip712Domain BaseSepoliaUsdc = new("USDC", "2", 84532, EvmAddress.Parse("0x036CbD53842c5426634e7929541eC2318f3dCF7e"));
    private static readonly Eip712Domain BaseUsdc = new("USD Coin", "2", 8453, EvmAddress.Parse("0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"));

    private static readonly TransferAuthorization SpecExample = new(
        EvmAddress.Parse("0x857b06519E91e3A54538791bDbb0E22373e36b66"),
        EvmAddress.Parse("0x209693Bc6afc0C5328bA36FaF03C514EF312287C"),
        10_000,
        1_740_672_089,
        1_740_672_154,
        Hex.Decode("0xf3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480"));

    private const string SpecSignature =
        "0x2d6a7588d6acca505cbf0d9a4a227e0c52c6c34008c8e8986a1283259764173608a2ce6496642e377d6da8dbbf5836e9bd15092f9ecab05ded3d6293af148b571c";

    private static readonly byte[] AnvilKey0 = Hex.Decode("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");

    private static readonly TransferAuthorization OwnVector = new(
        EvmAddress.Parse("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"),
        EvmAddress.Parse("0x209693Bc6afc0C5328bA36FaF03C514EF312287C"),
        10_000,
        1_740_671_489,
        1_740_672_149,
        Hex.Decode("0x0000000000000000000000000000000000000000000000000000000000000001"));

    [Fact]
    public void Keccak_of_empty_input_is_the_known_constant() =>
        Assert.Equal("0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470", Hex.Encode(Keccak256.Hash(ReadOnlySpan<byte>.Empty)));

    [Fact]
    public void Spec_example_domain_separator_and_digest_match()
    {
        Assert.Equal("0x71f17a3b2ff373b803d70a5a07c046c1a2bc8e89c09ef722fcb047abe94c9818", Hex.Encode(BaseSepoliaUsdc.Separator));
        Assert.Equal("0xf256992871671abcb27ff92885a7afa46218724e5fc0bac35d050115aa1d22e6",
            Hex.Encode(TransferAuthorizationHasher.Digest(BaseSepoliaUsdc, SpecExample)));
    }

    [Fact]
    public void Spec_example_signature_recovers_to_the_spec_payer()
    {
        var digest = TransferAuthorizationHasher.Digest(BaseSepoliaUsdc, SpecExample);
        var signer = Secp256k1.Recover(digest, Hex.Decode(SpecSignature));
        Assert.Equal("0x857b06519E91e3A54538791bDbb0E22373e36b66", signer.ToString());
    }

    [Fact]
    public void Spec_example_passes_the_full_verifier_with_the_clock_inside_its_window()
    {
        var network = new NetworkRegistry([]).All.Single(n => n.Id == "eip155:84532");
        var requirement = new PaymentRequirement(network, new TokenAmount(10_000), SpecExample.To, 60);
        var payment = new DecodedPayment(1, "exact", "base-sepolia", SpecExample, Hex.Decode(SpecSignature), null, default);
        var verifier = new PaymentVerifier(new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1_740_672_100)));

        var result = verifier.Verify(payment, requirement);

        Assert.True(result.IsValid, result.Message);
        Assert.Equal(SpecExample.From, result.Payer);
    }

    [Fact]
    public void Anvil_key_0_derives_its_well_known_address() =>
        Assert.Equal("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", Secp256k1.AddressOf(AnvilKey0).ToString());

    [Fact]
    public void Own_vector_struct_hash_matches() =>
        Assert.Equal("0x5f535c0b0085a26c523f2432ccec1e5c9220900e02f220ed76af724fc38f5ee7", Hex.Encode(TransferAuthorizationHasher.StructHash(OwnVector)));

    [Theory]
    [InlineData("base-sepolia", "0x6d2be4d68b1af132b9287ce51373f9c93ef9ef2a29b15fb52a073a960e2abebb",
        "0x2a6e9cd4ba590f022441c7da722afef19eb4278216fbd95ef8147bba523a2d054f03f61699948daec65f227142fcd7058a09225e8a93866aa4ff8fd9fc9a674b1b")]
    [InlineData("base", "0xbc812937a6b84857818669be159905cae2ab8ec7fc9173f917446ff5da468ffa",
        "0x7796853e405360adfe5d87b01beff5bb408d539d247b88dc2af35d9924196baf57f16f12b1677ddb2ba03b0743c5ee8684aac1a60dbc0c758d59d9bafe121a2a1b")]
    public void Own_vectors_digest_and_signature_match_byte_for_byte(string domainName, string digest, string signature)
    {
        var domain = domainName == "base" ? BaseUsdc : BaseSepoliaUsdc;
        Assert.Equal(digest, Hex.Encode(TransferAuthorizationHasher.Digest(domain, OwnVector)));
        Assert.Equal(signature, Hex.Encode(TransferAuthorizationHasher.Sign(domain, OwnVector, AnvilKey0)));
        Assert.Equal(OwnVector.From, Secp256k1.Recover(Hex.Decode(digest), Hex.Decode(signature)));
    }

    [Fact]
    public void Base_mainnet_domain_separator_matches() =>
        Assert.Equal("0x02fa7265e7c5d81118673727957699e4d68f74cd74b7db77da710fe8a2c7834f", Hex.Encode(BaseUsdc.Separator));

    [Fact]
    public void High_s_twin_of_a_valid_signature_is_not_accepted()
    {
        // (r, n - s, v ^ 1) recovers the same key, but USDC and OpenZeppelin refuse it, so must we.
        var n = BigInteger.Parse("0FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
        var sig = Hex.Decode(SpecSignature);
        var s = new BigInteger(sig.AsSpan(32, 32), isUnsigned: true, isBigEndian: true);
        var highS = (n - s).ToByteArray(isUnsigned: true, isBigEndian: true);
        var twin = sig.ToArray();
        highS.CopyTo(twin.AsSpan(64 - highS.Length));
        twin[64] = (byte)(sig[64] == 27 ? 28 : 27);
        Assert.Null(Secp256k1.Recover(TransferAuthorizationHasher.Digest(BaseSepoliaUsdc, SpecExample), twin));
    }

    [Theory]
    [InlineData(26)]
    [InlineData(29)]
    public void Recovery_id_outside_27_and_28_is_refused(byte v)
    {
        var sig = Hex.Decode(SpecSignature);
        sig[64] = v;
        Assert.Null(Secp256k1.Recover(TransferAuthorizationHasher.Digest(BaseSepoliaUsdc, SpecExample), sig));
    }

    [Fact]
    public void Addresses_print_with_the_eip55_checksum() =>
        Assert.Equal("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", EvmAddress.Parse("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed").ToString());
}
