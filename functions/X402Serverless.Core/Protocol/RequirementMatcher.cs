namespace X402Serverless.Core.Protocol;

/// <summary>
/// Finds which of a link's own requirements a payment is for. v2 must echo one verbatim (deep equality);
/// v1 names its network. The payment is then verified against our requirement, never against what it claims.
/// </summary>
public static class RequirementMatcher
{
    public static RequirementMatch Match(DecodedPayment payment, IReadOnlyList<PaymentRequirement> requirements)
    {
        PaymentRequirement? candidate = null;
        foreach (var r in requirements)
        {
            var name = payment.Version == 1 ? r.Network.V1Name : r.Network.Id;
            if (name is not null && string.Equals(name, payment.Network, StringComparison.OrdinalIgnoreCase))
            {
                candidate = r;
                break;
            }
        }
        if (candidate is null)
        {
            return new RequirementMatch(null, ReasonCodes.InvalidNetwork, $"This link is not paid on network '{payment.Network}'.");
        }
        if (payment.Scheme != PaymentRequirement.Scheme)
        {
            return new RequirementMatch(null, ReasonCodes.UnsupportedScheme, $"Scheme '{payment.Scheme}' is not accepted; use 'exact'.");
        }
        if (payment.Accepted is { } accepted)
        {
            if (!JsonEquality.DeepEquals(accepted, candidate.V2Element))
            {
                return new RequirementMatch(null, ReasonCodes.NoMatchingRequirements,
                    "accepted does not equal this link's current requirement (the price, recipient or asset may have changed); fetch a fresh 402.");
            }
        }
        return new RequirementMatch(candidate, null, null);
    }
}
