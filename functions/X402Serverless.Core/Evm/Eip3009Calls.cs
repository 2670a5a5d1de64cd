using X402Serverless.Core.Crypto;

namespace X402Serverless.Core.Evm;

/// <summary>ABI call data for the EIP-3009 token functions the settlement engine uses.</summary>
public static class Eip3009Calls
{
    // transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)
    private static readonly byte[] TransferWithAuthorizationSelector = Hex.Decode("0xe3ee160e");

    // authorizationState(address,bytes32)
    private static readonly byte[] AuthorizationStateSelector = Hex.Decode("0xe94a0102");

    // balanceOf(address)
    private static readonly byte[] BalanceOfSelector = Hex.Decode("0x70a08231");

    public static byte[] TransferWithAuthorization(TransferAuthorization a, ReadOnlySpan<byte> signature65)
    {
        var v = signature65[64] < 27 ? signature65[64] + 27 : signature65[64];
        return
        [
            .. TransferWithAuthorizationSelector,
            .. AbiWord.Address(a.From),
            .. AbiWord.Address(a.To),
            .. AbiWord.UInt256(a.Value),
            .. AbiWord.UInt256(a.ValidAfter),
            .. AbiWord.UInt256(a.ValidBefore),
            .. AbiWord.Bytes32(a.Nonce),
            .. AbiWord.UInt256(v),
            .. signature65[..32],
            .. signature65[32..64],
        ];
    }

    public static byte[] AuthorizationState(EvmAddress authorizer, byte[] nonce) =>
        [.. AuthorizationStateSelector, .. AbiWord.Address(authorizer), .. AbiWord.Bytes32(nonce)];

    public static byte[] BalanceOf(EvmAddress owner) => [.. BalanceOfSelector, .. AbiWord.Address(owner)];
}
