using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace X402Serverless.Core.Idempotency;

/// <summary>
/// The x402 <c>payment-identifier</c> extension: a client's idempotency key in
/// <c>extensions["payment-identifier"].info.id</c> of its payment payload (16–128 of <c>[A-Za-z0-9_-]</c>).
/// </summary>
public static class PaymentIdentifiers
{
    public const string ExtensionKey = "payment-identifier";
    public const int MinLength = 16;
    public const int MaxLength = 128;

    public const string Invalid = "invalid_payment_identifier";
    public const string Required = "payment_identifier_required";
    public const string Conflict = "payment_identifier_conflict";
    public const string InProgress = "payment_identifier_in_progress";
    public const string AnswerNotKept = "payment_identifier_answer_not_kept";

    public static bool IsValid(string? id) =>
        id is { Length: >= MinLength and <= MaxLength } && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    /// <summary>
    /// The id a payment payload carries: (id, null), (null, null) when it carries none, or (null, message) when the
    /// extension is there but its id is malformed.
    /// </summary>
    public static (string? Id, string? Error) Read(JsonElement payload)
    {
        if (payload.ValueKind != JsonValueKind.Object
            || !payload.TryGetProperty("extensions", out var extensions) || extensions.ValueKind != JsonValueKind.Object
            || !extensions.TryGetProperty(ExtensionKey, out var extension))
        {
            return (null, null);
        }
        if (extension.ValueKind != JsonValueKind.Object || !extension.TryGetProperty("info", out var info) || info.ValueKind != JsonValueKind.Object)
        {
            return (null, "extensions[\"payment-identifier\"] must be an object with an 'info' object.");
        }
        if (!info.TryGetProperty("id", out var id) || id.ValueKind == JsonValueKind.Null)
        {
            // The server's declaration echoed without an id: the client chose not to identify this payment.
            return (null, null);
        }
        return id.ValueKind == JsonValueKind.String && IsValid(id.GetString())
            ? (id.GetString(), null)
            : (null, $"info.id must be {MinLength}–{MaxLength} characters of letters, digits, '-' and '_'.");
    }

    /// <summary>
    /// What a repeat must equal to get the recorded answer: the exact payload (its signature included, so knowing an
    /// id is not enough) and the request's method and path under the link.
    /// </summary>
    public static string Fingerprint(JsonElement payload, string method, string target)
    {
        var bytes = Encoding.UTF8.GetBytes(payload.GetRawText() + "\n" + method.ToUpperInvariant() + "\n" + target);
        return Convert.ToHexStringLower(SHA256.HashData(bytes));
    }
}
