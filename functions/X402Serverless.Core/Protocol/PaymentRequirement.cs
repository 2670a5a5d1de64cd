using System.Numerics;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Networks;

namespace X402Serverless.Core.Protocol;

/// <summary>One way to pay a link: the "exact" scheme on one network, for one amount, to one recipient.</summary>
public sealed record PaymentRequirement(EvmNetwork Network, BigInteger Amount, EvmAddress PayTo, int MaxTimeoutSeconds)
{
    public const string Scheme = "exact";
}
