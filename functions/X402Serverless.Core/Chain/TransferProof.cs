using System.Numerics;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;

namespace X402Serverless.Core.Chain;

/// <summary>
/// Whether a receipt shows this authorization's own transfer. A used nonce proves nothing by itself: the payer can
/// burn it with a 0-value self-transfer (or a cancellation) and then present the real authorization. The token
/// (FiatToken and every EIP-3009 implementation we settle on) emits <c>AuthorizationUsed(from, nonce)</c> and then,
/// as the very next log, <c>Transfer(from, to, value)</c>; requiring that adjacency means a batch transaction
/// cannot lend one authorization's transfer to another nonce.
/// </summary>
public static class TransferProof
{
    // keccak256("AuthorizationUsed(address,bytes32)")
    public const string AuthorizationUsedTopic = "0x98de503528ee59b575ef0c0a2576a82497bfc029a5685b209e9ec333479b10a5";

    // keccak256("AuthorizationCanceled(address,bytes32)")
    public const string AuthorizationCanceledTopic = "0x1cdd46ff242716cdaa72d159d339a485b3438398348d68f09d7c8c0a59353d81";

    // keccak256("Transfer(address,address,uint256)")
    public const string TransferTopic = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";

    /// <summary>True when the successful receipt carries this authorization's AuthorizationUsed immediately followed by its Transfer.</summary>
    public static bool Shows(TransactionReceipt receipt, EvmAddress token, AuthorizedTransfer authorization)
    {
        if (!receipt.Succeeded)
        {
            return false;
        }
        var tokenHex = token.ToLowerHex();
        var fromTopic = Topic(AbiWord.Address(authorization.From));
        var toTopic = Topic(AbiWord.Address(authorization.To));
        var nonceTopic = Topic(AbiWord.Bytes32(authorization.Nonce));
        var logs = receipt.Logs;
        for (var i = 0; i + 1 < logs.Count; i++)
        {
            var used = logs[i];
            if (!FromToken(used, tokenHex) || used.Topics.Count != 3 || used.Topics[0] != AuthorizationUsedTopic
                || used.Topics[1] != fromTopic || used.Topics[2] != nonceTopic)
            {
                continue;
            }
            var transfer = logs[i + 1];
            return FromToken(transfer, tokenHex) && transfer.LogIndex == used.LogIndex + 1
                && transfer.Topics.Count == 3 && transfer.Topics[0] == TransferTopic
                && transfer.Topics[1] == fromTopic && transfer.Topics[2] == toTopic
                && Amount(transfer.Data) == authorization.Value;
        }
        return false;
    }

    private static bool FromToken(ReceiptLog log, string tokenHex) => string.Equals(log.Address, tokenHex, StringComparison.OrdinalIgnoreCase);

    private static string Topic(ReadOnlySpan<byte> word) => Hex.Encode(word);

    private static BigInteger Amount(string data) =>
        Hex.TryDecode(data, out var bytes) && bytes.Length == 32 ? new BigInteger(bytes, isUnsigned: true, isBigEndian: true) : BigInteger.MinusOne;
}
