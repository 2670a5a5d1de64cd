using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;

namespace X402Serverless.Handler.Inbox;

/// <summary>Receipt ids and the "paid with" value of a message no one paid for.</summary>
internal static class InboxMessages
{
    public const string Free = "free";

    /// <summary>128 random bits: unguessable, and derived from nothing (not the link, the sender or the time).</summary>
    public static string NewReceiptId() => "msg_" + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));

    /// <summary>Only the shape a receipt id has; anything else is not looked up.</summary>
    public static bool IsReceiptId(string? value) =>
        value is { Length: 26 } && value.StartsWith("msg_", StringComparison.Ordinal)
        && !value.AsSpan(4).ContainsAnyExcept(Base64UrlChars);

    private static readonly SearchValues<char> Base64UrlChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
}
