using System.Numerics;
using X402Serverless.Core.Evm;

namespace X402Serverless.Core.Chain;

/// <summary>
/// The transfer an authorization promises: what the chain must show before a payment counts. A Permit2 payment's
/// <see cref="Nonce"/> is its uint256 Permit2 nonce as 32 bytes, looked up at Permit2 instead of the token.
/// </summary>
public sealed record AuthorizedTransfer(EvmAddress From, EvmAddress To, BigInteger Value, byte[] Nonce)
{
    public bool Permit2 { get; init; }

    /// <summary>A Permit2 payment's deadline (unix seconds): no block stamped later can settle it.</summary>
    public BigInteger? Deadline { get; init; }

    public static AuthorizedTransfer Of(TransferAuthorization authorization) =>
        new(authorization.From, authorization.To, authorization.Value, authorization.Nonce);

    public static AuthorizedTransfer Of(Protocol.DecodedPayment payment) =>
        Of(payment.Authorization) with { Permit2 = payment.Permit2 is not null, Deadline = payment.Permit2?.Deadline };
}
