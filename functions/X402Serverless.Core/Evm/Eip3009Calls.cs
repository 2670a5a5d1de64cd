using System.Text;
using Nethereum.ABI;
using X402Serverless.Core.Crypto;

namespace X402Serverless.Core.Evm;

/// <summary>ABI call data for the EIP-3009 token functions the settlement engine uses, encoded by Nethereum's ABI encoder.</summary>
public static class Eip3009Calls
{
    private static readonly byte[] TransferWithAuthorizationSelector =
        Selector("transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)");

    // FiatToken v2.2's overload for any signature a wallet makes (EIP-1271 contract wallets' among them).
    private static readonly byte[] TransferWithAuthorizationBytesSelector =
        Selector("transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)");

    private static readonly byte[] AuthorizationStateSelector = Selector("authorizationState(address,bytes32)");

    private static readonly byte[] BalanceOfSelector = Selector("balanceOf(address)");

    /// <summary>The v, r, s form for a 65-byte signature (every FiatToken version has it), the bytes form otherwise.</summary>
    public static byte[] TransferWithAuthorization(TransferAuthorization a, ReadOnlySpan<byte> signature)
    {
        if (signature.Length != 65)
        {
            return Call(TransferWithAuthorizationBytesSelector,
                Address(a.From),
                Address(a.To),
                new ABIValue("uint256", a.Value),
                new ABIValue("uint256", a.ValidAfter),
                new ABIValue("uint256", a.ValidBefore),
                new ABIValue("bytes32", a.Nonce),
                new ABIValue("bytes", signature.ToArray()));
        }
        var signature65 = signature;
        var v = signature65[64] < 27 ? signature65[64] + 27 : signature65[64];
        return Call(TransferWithAuthorizationSelector,
            Address(a.From),
            Address(a.To),
            new ABIValue("uint256", a.Value),
            new ABIValue("uint256", a.ValidAfter),
            new ABIValue("uint256", a.ValidBefore),
            new ABIValue("bytes32", a.Nonce),
            new ABIValue("uint8", v),
            new ABIValue("bytes32", signature65[..32].ToArray()),
            new ABIValue("bytes32", signature65[32..64].ToArray()));
    }

    public static byte[] AuthorizationState(EvmAddress authorizer, byte[] nonce) =>
        Call(AuthorizationStateSelector, Address(authorizer), new ABIValue("bytes32", nonce));

    public static byte[] BalanceOf(EvmAddress owner) => Call(BalanceOfSelector, Address(owner));

    private static ABIValue Address(EvmAddress address) => new("address", address.ToLowerHex());

    private static byte[] Call(byte[] selector, params ABIValue[] arguments) => [.. selector, .. new ABIEncode().GetABIEncoded(arguments)];

    private static byte[] Selector(string signature) => Keccak256.Hash(Encoding.ASCII.GetBytes(signature))[..4];
}
