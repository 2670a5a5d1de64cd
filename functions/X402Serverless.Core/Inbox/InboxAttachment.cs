using System.Buffers;

namespace X402Serverless.Core.Inbox;

/// <summary>A file sent with a message: mailed as a MIME part with Content-Disposition: attachment, never rendered inline.</summary>
public sealed record InboxAttachment(string Filename, string ContentType, string ContentBase64);

/// <summary>What an attachment may be: a few plain document and image types, a safe file name, a bounded count.</summary>
public static class AttachmentRules
{
    public const int MaxAttachments = 10;
    public const int MaxFilenameChars = 100;

    /// <summary>No HTML, script or executable type: what the owner's mail program opens should be inert.</summary>
    public static readonly IReadOnlyList<string> AllowedTypes =
        ["application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", "text/plain", "text/csv"];

    private static readonly SearchValues<char> FilenameChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 -_.()");

    /// <summary>Letters, digits, space, '-', '_', '.', '(' and ')'; not starting with '.' or ending with '.' or a space (no path, no hidden or trailing-dot file).</summary>
    public static bool IsSafeFilename(string name) =>
        name.Length is > 0 and <= MaxFilenameChars && !name.AsSpan().ContainsAnyExcept(FilenameChars)
        && name[0] != '.' && name[^1] is not ('.' or ' ');

    public static bool IsAllowedType(string contentType) => AllowedTypes.Contains(contentType, StringComparer.Ordinal);
}
