using System.Numerics;
using X402Serverless.Core.Chain;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Money;

namespace X402Serverless.Core.Transfers;

/// <summary>What the chain says about a presented transaction, read through the network's RPC.</summary>
/// <param name="ChainId">The chain id the transaction was signed for (EIP-155), null for a legacy unprotected one.</param>
/// <param name="Sender">Who signed and sent the transaction (its <c>from</c>).</param>
/// <param name="To">The transaction's own recipient (null for a contract creation).</param>
/// <param name="Value">The native coin the transaction itself carried, in wei.</param>
public sealed record ObservedTransfer(TransactionReceipt Receipt, long? ChainId, DateTimeOffset BlockTime, BigInteger Head, EvmAddress? Sender = null,
    EvmAddress? To = null, BigInteger Value = default);

/// <summary>The terms a transfer must meet: the link's requirement on one network and the gateway's acceptance policy.</summary>
/// <param name="Native">The network's native coin is paid (the transaction's own to and value), not the token (its Transfer logs); Minimum is then in wei.</param>
public sealed record TransferTerms(long ChainId, EvmAddress Token, EvmAddress PayTo, EvmAddress Sender, TokenAmount Minimum,
    int Confirmations, TimeSpan MaxAge, bool Native = false);

/// <summary>The verdict: the value moved to payTo by the sender, or the reason it does not pay.</summary>
public sealed record TransferVerdict(TokenAmount Value, string? Reason, string? Message)
{
    public bool Pays => Reason is null;
}

/// <summary>
/// Decides whether a mined transaction pays: it succeeded, on this chain, the token contract logged Transfer(sender →
/// payTo) worth at least the price (several such logs in one transaction add up) or, for the native coin, the
/// transaction itself went to payTo carrying at least the price, it has enough confirmations and its block is not
/// older than the window. Each failure has its own reason.
/// </summary>
public static class TransferCheck
{
    public static TransferVerdict Judge(ObservedTransfer observed, TransferTerms terms, DateTimeOffset now)
    {
        var receipt = observed.Receipt;
        if (observed.ChainId is { } chain && chain != terms.ChainId)
        {
            return Refuse(TransferReasons.WrongChain, $"The transaction was signed for chain {chain}, not {terms.ChainId}.");
        }
        if (!receipt.Succeeded)
        {
            return Refuse(TransferReasons.Reverted, "The transaction reverted: nothing was transferred.");
        }
        // The payer's own transaction only: one a facilitator or relayer sent (an x402 settlement, say) also logs a
        // Transfer from the payer, but it already paid for what it was sent for.
        if (observed.Sender != terms.Sender)
        {
            return Refuse(TransferReasons.WrongSender, "The transaction was not sent by the wallet that signed the proof: present a transfer you sent yourself.");
        }
        var moved = terms.Native ? NativeValue(observed, terms) : TokenValue(receipt, terms);
        if (moved.Reason is not null)
        {
            return moved;
        }
        var confirmations = observed.Head - receipt.BlockNumber + 1;
        if (confirmations < terms.Confirmations)
        {
            return Refuse(TransferReasons.Unconfirmed,
                $"The transaction has {confirmations} confirmation(s); {terms.Confirmations} are needed. Present it again once they are reached.");
        }
        if (observed.BlockTime < now - terms.MaxAge)
        {
            return Refuse(TransferReasons.TooOld, $"The transaction was mined more than {(long)terms.MaxAge.TotalSeconds} seconds ago.");
        }
        return moved;
    }

    /// <summary>
    /// The coin the transaction itself sent to payTo. Only its own to and value count: coin a contract passes on inside
    /// the transaction leaves no log to tell it by, so a payment through a contract is not recognised.
    /// </summary>
    private static TransferVerdict NativeValue(ObservedTransfer observed, TransferTerms terms)
    {
        if (observed.To != terms.PayTo)
        {
            return Refuse(TransferReasons.WrongPayTo, $"The transaction was not sent to {terms.PayTo}.");
        }
        if (observed.Value < terms.Minimum.Units)
        {
            return Refuse(TransferReasons.InsufficientValue, $"The transaction carried {observed.Value} wei; this call costs {terms.Minimum} wei.");
        }
        return new(new TokenAmount(observed.Value), null, null);
    }

    private static TransferVerdict TokenValue(TransactionReceipt receipt, TransferTerms terms)
    {
        var token = terms.Token.ToLowerHex();
        var toTopic = Hex.Encode(AbiWord.Address(terms.PayTo));
        var fromTopic = Hex.Encode(AbiWord.Address(terms.Sender));
        var transfers = receipt.Logs.Where(l => l.Topics.Count == 3 && l.Topics[0] == TransferProof.TransferTopic).ToList();
        var ofToken = transfers.Where(l => string.Equals(l.Address, token, StringComparison.OrdinalIgnoreCase)).ToList();
        if (ofToken.Count == 0)
        {
            return Refuse(TransferReasons.WrongToken, $"The transaction moved no {terms.Token} tokens.");
        }
        var toPayee = ofToken.Where(l => l.Topics[2] == toTopic).ToList();
        if (toPayee.Count == 0)
        {
            return Refuse(TransferReasons.WrongPayTo, $"The transaction sent nothing to {terms.PayTo}.");
        }
        var fromSender = toPayee.Where(l => l.Topics[1] == fromTopic).ToList();
        if (fromSender.Count == 0)
        {
            return Refuse(TransferReasons.WrongSender, "The tokens sent to payTo did not come from the wallet that signed the proof.");
        }
        var value = fromSender.Aggregate(BigInteger.Zero, (sum, l) => sum + Amount(l.Data));
        if (value < terms.Minimum.Units)
        {
            return Refuse(TransferReasons.InsufficientValue, $"The transfer moved {value} units; this call costs {terms.Minimum}.");
        }
        return new(new TokenAmount(value), null, null);
    }

    private static TransferVerdict Refuse(string reason, string message) => new(TokenAmount.Zero, reason, message);

    // A malformed data word pays nothing.
    private static BigInteger Amount(string data) =>
        Hex.TryDecode(data, out var bytes) && bytes.Length == 32 ? new BigInteger(bytes, isUnsigned: true, isBigEndian: true) : BigInteger.Zero;
}
