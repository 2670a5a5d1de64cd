using X402Serverless.Core.Evm;

namespace X402Serverless.Core.Protocol;

public sealed record VerificationResult(bool IsValid, string? Reason, string? Message, EvmAddress? Payer)
{
    public static VerificationResult Valid(EvmAddress payer) => new(true, null, null, payer);

    public static VerificationResult Invalid(string reason, string message) => new(false, reason, message, null);
}
