using System.Numerics;
using System.Security.Cryptography;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;

namespace X402Serverless.Tests.Support;

/// <summary>
/// The attack on "a used nonce is a payment": the payer signs a 0-value transferWithAuthorization to itself with
/// nonce N and a third account submits it, so N is used on chain while the recipient receives nothing.
/// </summary>
internal static class NonceBurner
{
    // anvil's account #2: a bystander that submits the burn (anvil accounts are unlocked for eth_sendTransaction).
    private const string Submitter = "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc";

    public static async Task<string> BurnAsync(ChainFixture chain, byte[] payerKey, byte[] nonce)
    {
        var payer = Secp256k1.AddressOf(payerKey);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var burn = new TransferAuthorization(payer, payer, BigInteger.Zero, 0, now + 3600, nonce);
        var data = Eip3009Calls.TransferWithAuthorization(burn, TransferAuthorizationHasher.Sign(Domain(chain), burn, payerKey));
        return await SendAsync(chain, data);
    }

    /// <summary>The other way to use a nonce without paying: the payer's signed cancelAuthorization, submitted by a bystander.</summary>
    public static async Task<string> CancelAsync(ChainFixture chain, byte[] payerKey, byte[] nonce)
    {
        var payer = Secp256k1.AddressOf(payerKey);
        var typeHash = Keccak256.Hash(System.Text.Encoding.ASCII.GetBytes("CancelAuthorization(address authorizer,bytes32 nonce)"));
        var digest = Domain(chain).Digest(Keccak256.Hash(typeHash, AbiWord.Address(payer), nonce));
        var signature = Secp256k1.Sign(digest, payerKey);
        var selector = Keccak256.Hash(System.Text.Encoding.ASCII.GetBytes("cancelAuthorization(address,bytes32,uint8,bytes32,bytes32)"))[..4];
        byte[] data = [.. selector, .. AbiWord.Address(payer), .. nonce, .. AbiWord.UInt256(signature[64]), .. signature[..32], .. signature[32..64]];
        return await SendAsync(chain, data);
    }

    /// <summary>A fresh wallet holding <paramref name="amount"/> of the token, paid from the fixture's payer.</summary>
    public static async Task<byte[]> FundedPayerAsync(ChainFixture chain, BigInteger amount)
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var funding = new TransferAuthorization(chain.Payer, Secp256k1.AddressOf(key), amount, 0, now + 3600, RandomNumberGenerator.GetBytes(32));
        await SendAsync(chain, Eip3009Calls.TransferWithAuthorization(funding, TransferAuthorizationHasher.Sign(Domain(chain), funding, chain.PayerKey)));
        return key;
    }

    /// <summary>Submits a signed authorization on chain from a bystander, as any facilitator could.</summary>
    public static Task<string> SubmitAsync(ChainFixture chain, TransferAuthorization authorization, byte[] payerKey) =>
        SendAsync(chain, Eip3009Calls.TransferWithAuthorization(authorization, TransferAuthorizationHasher.Sign(Domain(chain), authorization, payerKey)));

    private static Eip712Domain Domain(ChainFixture chain) => new("USD Coin", "2", 84532, chain.Token);

    /// <summary>Submits a payer-signed authorization (as a facilitator would) and returns its hash at once, mined or not.</summary>
    public static async Task<string> SubmitSignedAsync(ChainFixture chain, TransferAuthorization authorization, byte[] signature) =>
        (await chain.Rpc.CallAsync("eth_sendTransaction", new
        {
            from = Submitter, to = chain.Token.ToLowerHex(), data = Hex.Encode(Eip3009Calls.TransferWithAuthorization(authorization, signature)),
        })).GetString()!;

    private static async Task<string> SendAsync(ChainFixture chain, byte[] data)
    {
        var tx = (await chain.Rpc.CallAsync("eth_sendTransaction", new { from = Submitter, to = chain.Token.ToLowerHex(), data = Hex.Encode(data) })).GetString()!;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        int? status;
        while ((status = await chain.Rpc.ReceiptStatusAsync(tx)) is null)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{tx} was not mined.");
            }
            await Task.Delay(50);
        }
        return status == 1 ? tx : throw new InvalidOperationException($"{tx} reverted.");
    }
}
