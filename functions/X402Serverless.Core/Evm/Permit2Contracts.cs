using System.Numerics;
using System.Text;
using Nethereum.ABI;
using X402Serverless.Core.Crypto;

namespace X402Serverless.Core.Evm;

/// <summary>
/// Permit2 and the x402 exact Permit2 proxy: their canonical addresses (the same on every chain, and what the official
/// client signs for), the payer's EIP-712 digest, and the call data the settlement engine sends and reads.
/// </summary>
public static class Permit2Contracts
{
    public static readonly EvmAddress Permit2 = EvmAddress.Parse("0x000000000022D473030F116dDEE9F6B43aC78BA3");

    public static readonly EvmAddress ExactProxy = EvmAddress.Parse("0x402085c248EeA27D92E8b30b2C58ed07f9E20001");

    /// <summary>The requirement's <c>extra.assetTransferMethod</c> that asks for a Permit2 payment.</summary>
    public const string TransferMethod = "permit2";

    private static readonly byte[] DomainTypeHash = Hash("EIP712Domain(string name,uint256 chainId,address verifyingContract)");

    private static readonly byte[] TokenPermissionsTypeHash = Hash("TokenPermissions(address token,uint256 amount)");

    // EIP-712 lists the referenced types after the primary one, alphabetically: TokenPermissions, then Witness.
    private static readonly byte[] PermitWitnessTypeHash = Hash(
        "PermitWitnessTransferFrom(TokenPermissions permitted,address spender,uint256 nonce,uint256 deadline,Witness witness)"
        + "TokenPermissions(address token,uint256 amount)Witness(address to,uint256 validAfter)");

    private static readonly byte[] WitnessTypeHash = Hash("Witness(address to,uint256 validAfter)");

    // Static tuples are encoded inline, so the flat argument list below encodes exactly as these tuples do.
    private static readonly byte[] SettleSelector = Hash("settle(((address,uint256),uint256,uint256),address,(address,uint256),bytes)")[..4];

    // The same after an EIP-2612 permit (five static words first): what a facilitator sends for a sponsored approval.
    private static readonly byte[] SettleWithPermitSelector =
        Hash("settleWithPermit((uint256,uint256,bytes32,bytes32,uint8),((address,uint256),uint256,uint256),address,(address,uint256),bytes)")[..4];

    private static readonly byte[] NonceBitmapSelector = Hash("nonceBitmap(address,uint256)")[..4];

    private static readonly byte[] AllowanceSelector = Hash("allowance(address,address)")[..4];

    /// <summary>keccak256("Settled()"): the proxy's event after each settle.</summary>
    public static readonly string SettledTopic = Hex.Encode(Hash("Settled()"));

    /// <summary>keccak256("UnorderedNonceInvalidation(address,uint256,uint256)"): an owner burning nonces at Permit2.</summary>
    public static readonly string NonceInvalidationTopic = Hex.Encode(Hash("UnorderedNonceInvalidation(address,uint256,uint256)"));

    /// <summary>What the payer signs: domain {name "Permit2", chainId, verifyingContract Permit2}, no version.</summary>
    public static byte[] Digest(long chainId, Permit2Authorization a)
    {
        var separator = Keccak256.Hash(DomainTypeHash, Hash("Permit2"), AbiWord.UInt256(chainId), AbiWord.Address(Permit2));
        var permitted = Keccak256.Hash(TokenPermissionsTypeHash, AbiWord.Address(a.Token), AbiWord.UInt256(a.Amount));
        var witness = Keccak256.Hash(WitnessTypeHash, AbiWord.Address(a.To), AbiWord.UInt256(a.ValidAfter));
        var structHash = Keccak256.Hash(PermitWitnessTypeHash, permitted, AbiWord.Address(a.Spender), AbiWord.UInt256(a.Nonce),
            AbiWord.UInt256(a.Deadline), witness);
        return Keccak256.Hash([0x19, 0x01], separator, structHash);
    }

    /// <summary>Signs a Permit2 payment (tests, and anything acting as a payer).</summary>
    public static byte[] Sign(long chainId, Permit2Authorization a, ReadOnlySpan<byte> privateKey) =>
        Secp256k1.Sign(Digest(chainId, a), privateKey);

    /// <summary>The proxy's settle(permit, owner, witness, signature): Permit2 moves the amount to witness.to.</summary>
    public static byte[] Settle(Permit2Authorization a, byte[] signature) =>
    [
        .. SettleSelector,
        .. new ABIEncode().GetABIEncoded(
            Address(a.Token), new ABIValue("uint256", a.Amount), new ABIValue("uint256", a.Nonce), new ABIValue("uint256", a.Deadline),
            Address(a.From), Address(a.To), new ABIValue("uint256", a.ValidAfter), new ABIValue("bytes", signature)),
    ];

    /// <summary>
    /// Whether a transaction's call data is the proxy's settle (or settleWithPermit) of exactly this permit (owner,
    /// nonce, token, amount, recipient): with its success and the transfer's log, the proof that this payment, not
    /// another, moved the money.
    /// </summary>
    public static bool IsSettleOf(ReadOnlySpan<byte> input, EvmAddress token, EvmAddress owner, EvmAddress to, BigInteger amount, BigInteger nonce)
    {
        if (input.Length < 4)
        {
            return false;
        }
        var skip = input[..4].SequenceEqual(SettleSelector) ? 0 : input[..4].SequenceEqual(SettleWithPermitSelector) ? 5 * 32 : -1;
        if (skip < 0 || input.Length < 4 + skip + 8 * 32)
        {
            return false;
        }
        var args = input[(4 + skip)..];
        return args[..32].SequenceEqual(AbiWord.Address(token)) && args[32..64].SequenceEqual(AbiWord.UInt256(amount))
            && args[64..96].SequenceEqual(AbiWord.UInt256(nonce)) && args[128..160].SequenceEqual(AbiWord.Address(owner))
            && args[160..192].SequenceEqual(AbiWord.Address(to));
    }

    /// <summary>Permit2's nonceBitmap(owner, wordPosition): the word holding <paramref name="nonce"/>'s bit.</summary>
    public static byte[] NonceBitmap(EvmAddress owner, BigInteger nonce) =>
        [.. NonceBitmapSelector, .. new ABIEncode().GetABIEncoded(Address(owner), new ABIValue("uint256", nonce >> 8))];

    /// <summary>Whether the word <see cref="NonceBitmap"/> answered has <paramref name="nonce"/>'s bit set.</summary>
    public static bool NonceUsed(byte[] word, BigInteger nonce) =>
        word.Length == 32 && !(new BigInteger(word, isUnsigned: true, isBigEndian: true) & (BigInteger.One << (int)(nonce & 0xff))).IsZero;

    /// <summary>The token's allowance(owner, Permit2): what Permit2 may move for the payer.</summary>
    public static byte[] Allowance(EvmAddress owner) =>
        [.. AllowanceSelector, .. new ABIEncode().GetABIEncoded(Address(owner), Address(Permit2))];

    private static ABIValue Address(EvmAddress address) => new("address", address.ToLowerHex());

    private static byte[] Hash(string text) => Keccak256.Hash(Encoding.ASCII.GetBytes(text));
}
