using System.Net.Http.Headers;

namespace X402Serverless.Tests.Forwarding;

/// <summary>A request carrying every header a payer, a browser or the platform might send that must stay at the gateway.</summary>
internal static class ForwardedHeaders
{
    /// <summary>Headers the upstream must never receive (lower-case), with the values the payer sends.</summary>
    public static readonly IReadOnlyDictionary<string, string> Withheld = new Dictionary<string, string>
    {
        ["cookie"] = "x402.console=session-cookie; .AspNetCore.Antiforgery.abc=antiforgery-cookie; theme=dark",
        ["proxy-authorization"] = "Basic cHJveHk6c2VjcmV0",
        ["kyc-attestation"] = "eyJtZXNzYWdlIjp7fX0=",
        ["x-azure-fdid"] = "00000000-0000-0000-0000-000000000001",
        ["x-ms-client-principal"] = "eyJ1c2VyIjoiYWRtaW4ifQ==",
        ["x-functions-key"] = "host-function-key",
    };

    /// <summary>End-to-end headers of the payer's own that do reach the upstream.</summary>
    public static readonly IReadOnlyDictionary<string, string> Passed = new Dictionary<string, string>
    {
        ["x-request-id"] = "req-42",
        ["accept-language"] = "nb-NO",
    };

    public static void AddTo(HttpRequestMessage request, string authorization)
    {
        request.Headers.Authorization = AuthenticationHeaderValue.Parse(authorization);
        foreach (var (name, value) in Withheld.Concat(Passed))
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
    }
}
