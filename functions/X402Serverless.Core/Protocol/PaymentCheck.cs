namespace X402Serverless.Core.Protocol;

/// <summary>
/// The outcome of checking a payment header against a resource's own requirements: decode, match, verify, in that
/// order, the first failure's reason kept.
/// </summary>
public sealed record PaymentCheck(DecodedPayment? Payment, PaymentRequirement? Requirement, string? Reason, string? Message)
{
    /// <summary>A payment refused only for want of an EOA signature: the requirement it meets and the digest its contract wallet must accept.</summary>
    public (PaymentRequirement Requirement, byte[] Digest)? ContractWallet { get; init; }

    public static PaymentCheck Run(string header, int version, IReadOnlyList<PaymentRequirement> requirements, PaymentVerifier verifier)
    {
        var decoded = PaymentHeaderDecoder.Decode(header, version);
        if (decoded.Payment is not { } payment)
        {
            return new(null, null, decoded.Reason, decoded.Message);
        }
        var match = RequirementMatcher.Match(payment, requirements);
        if (match.Requirement is not { } requirement)
        {
            return new(payment, null, match.Reason, match.Message);
        }
        var verification = verifier.Verify(payment, requirement);
        return verification.IsValid
            ? new(payment, requirement, null, null)
            : new(payment, null, verification.Reason, verification.Message)
            {
                ContractWallet = verification.ContractDigest is { } digest ? (requirement, digest) : null,
            };
    }
}
