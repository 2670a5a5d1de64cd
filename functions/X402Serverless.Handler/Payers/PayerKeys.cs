using X402Serverless.Core.Access;

namespace X402Serverless.Handler.Payers;

/// <summary>Payer API keys: like management keys (random, stored hashed) with their own prefix so they are never confused.</summary>
internal static class PayerKeys
{
    public const string Prefix = "x402pk_";

    public static string NewKey() => Prefix + ManagementKeys.NewKey()[ManagementKeys.Prefix.Length..];

    /// <summary>The payer key in an Authorization header, or null.</summary>
    public static string? FromRequest(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer " + Prefix, StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : null;
    }
}
