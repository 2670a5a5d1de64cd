using X402Serverless.Core.Evm;

namespace X402Serverless.Core.Protocol;

public sealed record VerificationResult(bool IsValid, string? Reason, string? Message, EvmAddress? Payer)
{
    /// <summary>
    /// Set when the signature is not an EOA signature by authorization.from but could be its contract wallet's
    /// (EIP-1271): the EIP-712 digest the wallet must accept. Invalid until a <see cref="Chain.ContractSignatures"/> check says otherwise.
    /// </summary>
    public byte[]? ContractDigest { get; init; }

    public static VerificationResult Valid(EvmAddress payer) => new(true, null, null, payer);

    public static VerificationResult Invalid(string reason, string message) => new(false, reason, message, null);
}
