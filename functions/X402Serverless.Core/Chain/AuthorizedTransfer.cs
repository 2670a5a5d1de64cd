using System.Numerics;
using X402Serverless.Core.Evm;

namespace X402Serverless.Core.Chain;

/// <summary>The transfer an EIP-3009 authorization promises: what the chain must show before a payment counts.</summary>
public sealed record AuthorizedTransfer(EvmAddress From, EvmAddress To, BigInteger Value, byte[] Nonce)
{
    public static AuthorizedTransfer Of(TransferAuthorization authorization) =>
        new(authorization.From, authorization.To, authorization.Value, authorization.Nonce);
}
