using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using X402Serverless.Core.Webhooks;

namespace X402Serverless.Core.OutboundWebhooks;

/// <summary>
/// Stripe's signature scheme, so a receiver can verify with Stripe's libraries: "t=&lt;unix&gt;,v1=&lt;hex&gt;[,v1=…]",
/// each v1 the HMAC-SHA256, keyed with one active secret (its UTF-8 text), of "{t}.{body}".
/// </summary>
public static class WebhookSigner
{
    public const string SecretPrefix = "whsec_";

    /// <summary>A new secret: 32 random bytes, base64url, behind the prefix receivers' tools expect.</summary>
    public static string NewSecret() =>
        SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static string Header(string body, long timestamp, IEnumerable<string> secrets)
    {
        var payload = Encoding.UTF8.GetBytes(body);
        var header = new StringBuilder("t=").Append(timestamp.ToString(CultureInfo.InvariantCulture));
        foreach (var secret in secrets)
        {
            header.Append(",v1=").Append(Convert.ToHexStringLower(WebhookSignature.Compute(payload, timestamp, secret)));
        }
        return header.ToString();
    }
}
