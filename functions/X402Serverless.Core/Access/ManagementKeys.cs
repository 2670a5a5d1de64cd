using System.Security.Cryptography;
using System.Text;

namespace X402Serverless.Core.Access;

/// <summary>
/// Management keys are 32 random bytes; a fast hash is enough to store them because they carry full entropy
/// (a slow password hash protects guessable secrets, which these are not).
/// </summary>
public static class ManagementKeys
{
    public const string Prefix = "x402sk_";

    public static string NewKey() => Prefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>A non-secret handle to recognise a key in listings.</summary>
    public static string DisplayPrefix(string key) => key.Length > 12 ? key[..12] : key;

    public static string NewId(string kind) => $"{kind}_{Base64Url(RandomNumberGenerator.GetBytes(9))}";

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
