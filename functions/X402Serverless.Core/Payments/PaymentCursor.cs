using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace X402Serverless.Core.Payments;

/// <summary>
/// Where a payment listing stopped: the last row's creation time and id, the listing's sort key. Rows after it are
/// older, or as old with a greater id. Its text form is opaque to callers (base64url of "ticks.id").
/// </summary>
public sealed record PaymentCursor(DateTimeOffset CreatedAt, string Id)
{
    /// <summary>Payment ids are short; a longer cursor is not one of ours.</summary>
    public const int MaxLength = 200;

    public static PaymentCursor Of(PaymentRecord payment) => new(payment.CreatedAt, payment.Id);

    public override string ToString() =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(CreatedAt.UtcTicks.ToString(CultureInfo.InvariantCulture) + "." + Id));

    /// <summary>The cursor a listing returned, or null for anything else (too long, not base64url, a time out of range, no id).</summary>
    public static PaymentCursor? Parse(string text)
    {
        if (text.Length is 0 or > MaxLength)
        {
            return null;
        }
        var bytes = new byte[Base64Url.GetMaxDecodedLength(text.Length)];
        if (Base64Url.DecodeFromChars(text, bytes, out var consumed, out var written) is not System.Buffers.OperationStatus.Done || consumed != text.Length)
        {
            return null;
        }
        string decoded;
        try
        {
            decoded = new UTF8Encoding(false, true).GetString(bytes, 0, written);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
        var dot = decoded.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || dot == decoded.Length - 1
            || !long.TryParse(decoded.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            || ticks > DateTimeOffset.MaxValue.UtcTicks)
        {
            return null;
        }
        var id = decoded[(dot + 1)..];
        return id.Any(char.IsControl) ? null : new PaymentCursor(new DateTimeOffset(ticks, TimeSpan.Zero), id);
    }
}
