using System.Numerics;

namespace X402Serverless.Core.Evm;

/// <summary>The EIP-3009 TransferWithAuthorization message a payer signs.</summary>
public sealed record TransferAuthorization(
    EvmAddress From,
    EvmAddress To,
    BigInteger Value,
    BigInteger ValidAfter,
    BigInteger ValidBefore,
    byte[] Nonce);
