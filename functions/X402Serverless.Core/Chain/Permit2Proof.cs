using System.Numerics;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;

namespace X402Serverless.Core.Chain;

/// <summary>
/// Whether a transaction paid a Permit2 payment. Permit2 logs nothing per nonce and the proxy's <c>Settled()</c> names
/// nothing, so the proof is the transaction itself: a call to the proxy's settle of exactly this permit (owner, nonce,
/// token, amount, recipient) that succeeded (so that permit's nonce was spent by it, and only once) and whose receipt
/// carries the token's Transfer from the payer to the recipient of the amount.
/// </summary>
public static class Permit2Proof
{
    public static bool Shows(TransactionReceipt receipt, EvmAddress? to, byte[] input, EvmAddress token, AuthorizedTransfer transfer)
    {
        if (!receipt.Succeeded || to != Permit2Contracts.ExactProxy
            || !Permit2Contracts.IsSettleOf(input, token, transfer.From, transfer.To, transfer.Value, NonceOf(transfer)))
        {
            return false;
        }
        var fromTopic = Hex.Encode(AbiWord.Address(transfer.From));
        var toTopic = Hex.Encode(AbiWord.Address(transfer.To));
        return receipt.Logs.Any(l => string.Equals(l.Address, token.ToLowerHex(), StringComparison.OrdinalIgnoreCase)
            && l.Topics.Count == 3 && l.Topics[0] == TransferProof.TransferTopic && l.Topics[1] == fromTopic && l.Topics[2] == toTopic
            && Hex.TryDecode(l.Data, out var data) && data.Length == 32 && new BigInteger(data, isUnsigned: true, isBigEndian: true) == transfer.Value);
    }

    public static BigInteger NonceOf(AuthorizedTransfer transfer) => new(transfer.Nonce, isUnsigned: true, isBigEndian: true);
}
