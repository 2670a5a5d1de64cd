namespace X402Serverless.Handler.Forwarding;

/// <summary>
/// Headers never copied across the proxy: those of one connection (RFC 9110 §7.6.1), and those that carry the
/// payer's or the gateway's credentials, proofs or state. README ("What reaches the upstream") lists the same.
/// </summary>
internal static class HopByHopHeaders
{
    private static readonly HashSet<string> Request = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "TE", "Trailer",
        "Transfer-Encoding", "Upgrade", "Host", "Content-Length", "Expect",
        // Credentials: a payer key (x402pk_), a management key or a proxy's credential authenticates to us, and a
        // provider holding it could spend or revoke as the payer. The provider's own credentials go in upstreamHeaders.
        "Authorization", "Proxy-Authorization",
        // Cookies sent to the gateway's origin are ours (console session, antiforgery) or were planted there; none
        // belongs to one provider, so the whole header stays here (and upstream Set-Cookie never comes back).
        "Cookie",
        // The payment, pass and KYC proofs are ours to check; the upstream never sees them.
        "PAYMENT-SIGNATURE", "X-PAYMENT", "KYC-ATTESTATION", "SIGN-IN-WITH-X",
        // The platform's (Front Door's id guards the origin); the gateway sets X-Forwarded-Host and -Proto itself and
        // appends the caller's address to X-Forwarded-For.
        "X-Functions-Key", "Forwarded", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Original-URL", "X-Original-Host",
        "Disguised-Host", "Client-IP", "Was-Default-Hostname", "X-Site-Deployment-Id",
    };

    // Whole families set by Front Door and App Service (X-Azure-FDID, X-Azure-ClientIP, X-MS-CLIENT-PRINCIPAL, X-ARR-...).
    private static readonly string[] RequestPrefixes = ["X-Azure-", "X-MS-", "X-ARR-", "X-WAWS-"];

    private static readonly HashSet<string> Response = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "TE", "Trailer", "Transfer-Encoding", "Upgrade",
        // An upstream must not forge our settlement and charge headers (a payer, or an agent over MCP, reads them as ours).
        "PAYMENT-RESPONSE", "X-PAYMENT-RESPONSE", "PAYMENT-REQUIRED",
        "X-Payment-Id", "X-Payment-Settlement", "X-Charged", "X-Charged-From",
        // Nor act on the gateway's origin, which the console shares: plant or clear its cookies, widen a service
        // worker's scope, or point the origin's connections elsewhere.
        "Set-Cookie", "Clear-Site-Data", "Service-Worker-Allowed", "Alt-Svc",
    };

    public static bool SkipOnRequest(string name)
    {
        if (Request.Contains(name))
        {
            return true;
        }
        // A loop, not Any(): a lambda capturing the name would be allocated for every header of every paid call.
        foreach (var prefix in RequestPrefixes)
        {
            if (name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }

    public static bool SkipOnResponse(string name) => Response.Contains(name);
}
