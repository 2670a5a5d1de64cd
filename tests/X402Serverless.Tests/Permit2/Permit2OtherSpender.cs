using System.Numerics;
using System.Text;
using Nethereum.ABI;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Permit2;

/// <summary>
/// Spends a payer's Permit2 nonce through another spender: the payer signs a PermitWitnessTransferFrom for some other
/// integration (here a fresh impersonated account) with the same nonce, and that spender calls Permit2 itself. Permit2
/// logs nothing per nonce, so nothing on chain ties the spent nonce to it: the case no proof can ever settle.
/// </summary>
internal static class Permit2OtherSpender
{
    private const string WitnessTypeString = "Witness witness)TokenPermissions(address token,uint256 amount)Witness(address to,uint256 validAfter)";

    private static readonly byte[] Selector = Keccak256.Hash(Encoding.ASCII.GetBytes(
        "permitWitnessTransferFrom(((address,uint256),uint256,uint256),(address,uint256),address,bytes32,string,bytes)"))[..4];

    /// <summary>Moves one unit from the payer to the other spender with <paramref name="nonce"/>; the transaction's hash.</summary>
    public static async Task<string> SpendAsync(EthRpc rpc, EvmAddress token, byte[] payerKey, BigInteger nonce)
    {
        var spender = ChainFixture.NewAddress();
        await rpc.CallAsync("anvil_setBalance", spender.ToLowerHex(), "0x56BC75E2D63100000");
        await rpc.CallAsync("anvil_impersonateAccount", spender.ToLowerHex());
        var payer = Secp256k1.AddressOf(payerKey);
        var deadline = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 3600;
        var permit = new Permit2Authorization(payer, token, BigInteger.One, spender, nonce, deadline, spender, BigInteger.Zero);
        var signature = Permit2Contracts.Sign(84532, permit, payerKey);
        var witness = Keccak256.Hash(Keccak256.Hash(Encoding.ASCII.GetBytes("Witness(address to,uint256 validAfter)")),
            AbiWord.Address(spender), AbiWord.UInt256(BigInteger.Zero));
        byte[] data =
        [
            .. Selector,
            .. new ABIEncode().GetABIEncoded(
                new ABIValue("address", token.ToLowerHex()), new ABIValue("uint256", BigInteger.One), new ABIValue("uint256", nonce),
                new ABIValue("uint256", new BigInteger(deadline)), new ABIValue("address", spender.ToLowerHex()), new ABIValue("uint256", BigInteger.One),
                new ABIValue("address", payer.ToLowerHex()), new ABIValue("bytes32", witness), new ABIValue("string", WitnessTypeString),
                new ABIValue("bytes", signature)),
        ];
        var tx = (await rpc.CallAsync("eth_sendTransaction", new
        {
            from = spender.ToLowerHex(), to = Permit2Contracts.Permit2.ToLowerHex(), data = Hex.Encode(data), gas = "0x7a120",
        })).GetString()!;
        await Poll.UntilAsync(async () => await rpc.ReceiptStatusAsync(tx) is not null, TimeSpan.FromSeconds(30));
        return await rpc.ReceiptStatusAsync(tx) == 1 ? tx : throw new InvalidOperationException($"The other spender's permit {tx} reverted.");
    }
}
