namespace X402Serverless.Core.Links;

/// <summary>Which upstream answers are charged. Anything else is released: the payer pays nothing for it.</summary>
public static class ChargePolicies
{
    /// <summary>Only 2xx answers are charged (the default).</summary>
    public const string Success = "2xx";

    /// <summary>Everything below 500 is charged (APIs whose 4xx answers are the product, e.g. "not found").</summary>
    public const string BelowServerError = "below-500";

    public static bool IsValid(string? policy) => policy is Success or BelowServerError;

    public static bool Charges(string policy, int status) =>
        policy == BelowServerError ? status < 500 : status is >= 200 and < 300;
}
