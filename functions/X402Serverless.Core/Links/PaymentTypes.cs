namespace X402Serverless.Core.Links;

/// <summary>How a link may be paid: per call on chain, from prepaid credits, or from an organisation's allowance.</summary>
public static class PaymentTypes
{
    public const string X402 = "x402";
    public const string Credits = "credits";
    public const string Allowance = "allowance";

    public static readonly IReadOnlyList<string> All = [X402, Credits, Allowance];
}
