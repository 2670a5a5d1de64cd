using System.Numerics;

namespace X402Serverless.Core.Evm;

/// <summary>
/// The Permit2 "exact" payment a payer signs (x402 <c>payload.permit2Authorization</c>): Permit2's
/// PermitWitnessTransferFrom of <see cref="Amount"/> of <see cref="Token"/>, spendable only by <see cref="Spender"/>
/// (the x402 exact Permit2 proxy) until <see cref="Deadline"/>, whose witness names the recipient and the earliest time.
/// </summary>
public sealed record Permit2Authorization(
    EvmAddress From,
    EvmAddress Token,
    BigInteger Amount,
    EvmAddress Spender,
    BigInteger Nonce,
    BigInteger Deadline,
    EvmAddress To,
    BigInteger ValidAfter)
{
    /// <summary>
    /// The same payment in the EIP-3009 shape the rest of the paid path reads (payer, recipient, amount, window, a
    /// 32-byte nonce): Permit2 accepts a permit while block time ≤ deadline, EIP-3009 while it is &lt; validBefore.
    /// </summary>
    public TransferAuthorization AsTransfer() =>
        new(From, To, Amount, ValidAfter, Deadline + 1, AbiWord.UInt256(Nonce));
}
