namespace X402Serverless.Handler.Paywall;

/// <summary>x402 header names for both protocol generations.</summary>
internal static class PaymentHeaders
{
    public const string RequiredV2 = "PAYMENT-REQUIRED";
    public const string SignatureV2 = "PAYMENT-SIGNATURE";
    public const string ResponseV2 = "PAYMENT-RESPONSE";
    public const string PaymentV1 = "X-PAYMENT";
    public const string ResponseV1 = "X-PAYMENT-RESPONSE";

    /// <summary>Browser clients must be allowed to read these.</summary>
    public const string Exposed = "PAYMENT-REQUIRED, PAYMENT-RESPONSE, X-PAYMENT-RESPONSE";
}
