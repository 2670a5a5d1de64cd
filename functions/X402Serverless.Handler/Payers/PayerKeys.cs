using X402Serverless.Core.Access;
using X402Serverless.Core.Payers;

namespace X402Serverless.Handler.Payers;

/// <summary>Payer API keys: like management keys (random, stored hashed) with their own prefix so they are never confused.</summary>
internal static class PayerKeys
{
    public const string Prefix = "x402pk_";

    public static string NewKey() => Prefix + ManagementKeys.NewKey()[ManagementKeys.Prefix.Length..];

    /// <summary>A new key for the payer: the record to store (with its hash) and the key, shown to the caller once.</summary>
    public static (PayerKey Record, string Hash, string Key) Issue(string payerId, DateTimeOffset now)
    {
        var key = NewKey();
        return (new PayerKey(ManagementKeys.NewId("pkey"), payerId, ManagementKeys.DisplayPrefix(key), now), ManagementKeys.Hash(key), key);
    }

    /// <summary>The payer key in an Authorization header, or null.</summary>
    public static string? FromRequest(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer " + Prefix, StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : null;
    }
}
