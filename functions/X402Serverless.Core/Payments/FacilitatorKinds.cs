namespace X402Serverless.Core.Payments;

public static class FacilitatorKinds
{
    /// <summary>A standard x402 facilitator over HTTP.</summary>
    public const string Remote = "remote";

    /// <summary>This deployment's own gas wallet.</summary>
    public const string BuiltIn = "builtin";

    public static bool IsValid(string? kind) => kind is Remote or BuiltIn;
}
