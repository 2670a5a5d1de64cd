using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace X402Serverless.Core.Webhooks;

public enum WebhookSignatureResult
{
    Valid,
    Malformed,
    Mismatch,
    Stale,
}

/// <summary>
/// Verifies a timestamped webhook signature header "t=...,v1=..." (Stripe's scheme; the KYC callback uses the same):
/// HMAC-SHA256 keyed with the endpoint secret over "{t}.{raw body}", any of several v1 signatures may match, compared
/// in constant time, timestamp within tolerance.
/// </summary>
public static class WebhookSignature
{
    public static readonly TimeSpan DefaultTolerance = TimeSpan.FromMinutes(5);

    public static WebhookSignatureResult Verify(ReadOnlySpan<byte> payload, string? header, string secret, DateTimeOffset now, TimeSpan tolerance)
    {
        if (string.IsNullOrEmpty(header))
        {
            return WebhookSignatureResult.Malformed;
        }
        long? timestamp = null;
        var signatures = new List<byte[]>();
        foreach (var part in header.Split(','))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                continue;
            }
            var key = part[..eq].Trim();
            var value = part[(eq + 1)..].Trim();
            if (key == "t" && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var t))
            {
                timestamp = t;
            }
            else if (key == "v1" && value.Length == 64 && value.All(char.IsAsciiHexDigit))
            {
                signatures.Add(Convert.FromHexString(value));
            }
        }
        if (timestamp is not { } ts || signatures.Count == 0)
        {
            return WebhookSignatureResult.Malformed;
        }
        var expected = Compute(payload, ts, secret);
        var matched = false;
        foreach (var candidate in signatures)
        {
            // Every candidate is compared, so timing says nothing about which one (if any) matched.
            matched |= CryptographicOperations.FixedTimeEquals(candidate, expected);
        }
        if (!matched)
        {
            return WebhookSignatureResult.Mismatch;
        }
        return Math.Abs(now.ToUnixTimeSeconds() - ts) > tolerance.TotalSeconds ? WebhookSignatureResult.Stale : WebhookSignatureResult.Valid;
    }

    public static byte[] Compute(ReadOnlySpan<byte> payload, long timestamp, string secret)
    {
        var prefix = Encoding.UTF8.GetBytes(timestamp.ToString(CultureInfo.InvariantCulture) + ".");
        byte[] message = [.. prefix, .. payload];
        return HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), message);
    }
}
