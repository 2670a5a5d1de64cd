namespace X402Serverless.Core.Links;

/// <summary>
/// How a link may be paid: per call on chain (x402), from prepaid credits, from an organisation's allowance, or by an
/// ordinary token transfer presented by its transaction hash (x402 TXID; on x402's networks, so it needs x402 too).
/// </summary>
public static class PaymentTypes
{
    public const string X402 = "x402";
    public const string Credits = "credits";
    public const string Allowance = "allowance";
    public const string Transfer = "transfer";

    public static readonly IReadOnlyList<string> All = [X402, Credits, Allowance, Transfer];
}
