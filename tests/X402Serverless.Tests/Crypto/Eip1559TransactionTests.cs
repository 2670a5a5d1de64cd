using Nethereum.Model;
using Nethereum.Signer;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;

namespace X402Serverless.Tests.Crypto;

/// <summary>
/// The settlement transaction the gas wallet signs, for a fixed vector: anvil's key 0 sending the x402 spec example's
/// transferWithAuthorization to Base Sepolia USDC. Its bytes and hash are pinned, and Nethereum must agree with them.
/// </summary>
public sealed class Eip1559TransactionTests
{
    private const string ExpectedRaw =
        "0x02f9019483014a3407843b9aca0084b2d05e0083015f9094036cbd53842c5426634e7929541ec2318f3dcf7e80b90124e3ee160e"
        + "000000000000000000000000857b06519e91e3a54538791bdbb0e22373e36b66000000000000000000000000209693bc6afc0c5328ba36faf03c514ef312287c"
        + "00000000000000000000000000000000000000000000000000000000000027100000000000000000000000000000000000000000000000000000000067c08c59"
        + "0000000000000000000000000000000000000000000000000000000067c08c9af3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480"
        + "000000000000000000000000000000000000000000000000000000000000001c2d6a7588d6acca505cbf0d9a4a227e0c52c6c34008c8e8986a1283259764173608"
        + "a2ce6496642e377d6da8dbbf5836e9bd15092f9ecab05ded3d6293af148b57c001a0078ae5a60aa575af119b79d21f86956bf95df920fd4f385fb5d35d30297539a5"
        + "a06785b1bdd87c66abfd13b983526c76205e3745e14aa279aedd63a1ffbac0eab6";

    private const string ExpectedHash = "0x8c0e12bd4dd8414dfd8b2d80c2ba1b92d4f6e64af2158460a3b53e25974052c8";

    private static readonly byte[] AnvilKey0 = Hex.Decode("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");

    private static readonly EvmAddress Usdc = EvmAddress.Parse("0x036CbD53842c5426634e7929541eC2318f3dCF7e");

    private static readonly byte[] CallData = Eip3009Calls.TransferWithAuthorization(
        new TransferAuthorization(
            EvmAddress.Parse("0x857b06519E91e3A54538791bDbb0E22373e36b66"),
            EvmAddress.Parse("0x209693Bc6afc0C5328bA36FaF03C514EF312287C"),
            10_000,
            1_740_672_089,
            1_740_672_154,
            Hex.Decode("0xf3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480")),
        Hex.Decode("0x2d6a7588d6acca505cbf0d9a4a227e0c52c6c34008c8e8986a1283259764173608a2ce6496642e377d6da8dbbf5836e9bd15092f9ecab05ded3d6293af148b571c"));

    private static readonly Eip1559Transaction Vector = new(84532, 7, 1_000_000_000, 3_000_000_000, 90_000, Usdc, 0, CallData);

    [Fact]
    public void Signed_vector_has_the_pinned_bytes_and_hash()
    {
        var (raw, hash) = Vector.Sign(AnvilKey0);
        Assert.Equal(ExpectedRaw, Hex.Encode(raw));
        Assert.Equal(ExpectedHash, hash);
    }

    [Fact]
    public void Nethereum_signs_the_same_bytes()
    {
        var nethereum = new Transaction1559Signer().SignTransaction(AnvilKey0,
            new Transaction1559(84532, 7, 1_000_000_000, 3_000_000_000, 90_000, Usdc.ToLowerHex(), 0, Hex.Encode(CallData), []));
        Assert.Equal(ExpectedRaw, "0x" + nethereum);
        Assert.Equal(ExpectedHash, Hex.Encode(Keccak256.Hash(Hex.Decode(ExpectedRaw))));
    }

    [Fact]
    public void Our_signature_and_Nethereums_signer_give_the_same_bytes_for_random_transactions_of_both_parities()
    {
        var parities = new HashSet<byte>();
        for (var i = 0; i < 64; i++)
        {
            var key = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
            var data = System.Security.Cryptography.RandomNumberGenerator.GetBytes(i * 3);
            var tx = new Eip1559Transaction(84532, i, i * 1_000, 3_000_000_000 + i, 21_000 + i, Usdc, i % 3, data);
            var (raw, hash) = tx.Sign(key);
            var unsigned = new Transaction1559(84532, i, i * 1_000, 3_000_000_000 + i, 21_000 + i, Usdc.ToLowerHex(), i % 3, Hex.Encode(data), []);
            var nethereum = new Transaction1559Signer().SignTransaction(key, unsigned);
            Assert.Equal("0x" + nethereum, Hex.Encode(raw));
            Assert.Equal(Hex.Encode(Keccak256.Hash(raw)), hash);
            parities.Add(Secp256k1.Sign(Keccak256.Hash(unsigned.GetRLPEncodedRaw()), key)[64]);
        }
        Assert.Equal(2, parities.Count);
    }

    [Fact]
    public void Nethereum_recovers_the_gas_wallet_as_sender() =>
        Assert.Equal("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", TransactionVerificationAndRecovery.GetSenderAddress(ExpectedRaw));
}
