namespace X402Serverless.Handler.Paywall;

/// <summary>x402 header names for both protocol generations.</summary>
internal static class PaymentHeaders
{
    public const string RequiredV2 = "PAYMENT-REQUIRED";
    public const string SignatureV2 = "PAYMENT-SIGNATURE";
    public const string ResponseV2 = "PAYMENT-RESPONSE";
    public const string PaymentV1 = "X-PAYMENT";
    public const string ResponseV1 = "X-PAYMENT-RESPONSE";

    /// <summary>The payment a request carries: (2, PAYMENT-SIGNATURE), (1, X-PAYMENT), or (0, "") for none.</summary>
    public static (int Version, string Header) Read(HttpRequest request) =>
        request.Headers.TryGetValue(SignatureV2, out var v2) ? (2, v2.ToString())
        : request.Headers.TryGetValue(PaymentV1, out var v1) ? (1, v1.ToString())
        : (0, "");

    /// <summary>Browser clients must be allowed to read these.</summary>
    public const string Exposed = "PAYMENT-REQUIRED, PAYMENT-RESPONSE, X-PAYMENT-RESPONSE";
}
