namespace X402Serverless.Core.Payments;

public static class SettlementModes
{
    /// <summary>The x402 default: the payer gets the content only after settlement succeeded.</summary>
    public const string Sync = "sync";

    /// <summary>The payer gets the content as soon as the upstream answers; the durable job settles it.</summary>
    public const string Deferred = "deferred";

    public static bool IsValid(string? mode) => mode is Sync or Deferred;
}
