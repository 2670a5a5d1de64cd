namespace X402Serverless.Handler.Forwarding;

/// <summary>Headers that belong to one connection (RFC 9110 §7.6.1) or to the gateway, never copied across the proxy.</summary>
internal static class HopByHopHeaders
{
    private static readonly HashSet<string> Request = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization", "TE", "Trailer",
        "Transfer-Encoding", "Upgrade", "Host", "Content-Length", "Expect",
        // The payment and the KYC proof are ours to check; the upstream never sees them.
        "PAYMENT-SIGNATURE", "X-PAYMENT", "KYC-ATTESTATION",
    };

    private static readonly HashSet<string> Response = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "TE", "Trailer", "Transfer-Encoding", "Upgrade",
        // An upstream must not forge our settlement headers.
        "PAYMENT-RESPONSE", "X-PAYMENT-RESPONSE", "PAYMENT-REQUIRED",
    };

    public static bool SkipOnRequest(string name) => Request.Contains(name);

    public static bool SkipOnResponse(string name) => Response.Contains(name);
}
