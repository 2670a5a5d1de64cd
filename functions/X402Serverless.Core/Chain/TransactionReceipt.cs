using System.Numerics;

namespace X402Serverless.Core.Chain;

/// <summary>
/// A mined transaction's receipt: whether it succeeded, what it cost and the logs it emitted, in order.
/// <see cref="EffectiveGasPrice"/> is null from a node that does not report it.
/// </summary>
public sealed record TransactionReceipt(string TransactionHash, bool Succeeded, BigInteger BlockNumber, BigInteger GasUsed,
    BigInteger? EffectiveGasPrice, IReadOnlyList<ReceiptLog> Logs);

/// <summary>One log of a receipt; topics and data as hex strings, lower-cased.</summary>
public sealed record ReceiptLog(string Address, IReadOnlyList<string> Topics, string Data, BigInteger LogIndex);
