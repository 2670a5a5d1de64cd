using System.Buffers;
using System.Net.Mail;
using X402Serverless.Core.Links;

namespace X402Serverless.Core.Inbox;

/// <summary>Checks an inbox draft, each problem with a stable code (the link's own fields are checked as any link's).</summary>
public static class InboxRules
{
    public const int MaxAutoReplyChars = 4000;
    public const int MaxAllowEntries = 1000;

    private static readonly SearchValues<char> LowerHex = SearchValues.Create("0123456789abcdef");

    public static IEnumerable<ValidationError> Check(InboxSettings inbox)
    {
        // Mail, a webhook, or both; the webhook URL itself is checked by the handler (its SSRF policy resolves the host).
        if (inbox.Mails ? !IsAddress(inbox.DeliverTo) : inbox.WebhookUrl is null)
        {
            yield return new("inbox.deliverTo", "invalid_inbox_address",
                "inbox.deliverTo must be one email address such as owner@example.com (it may be left out when inbox.webhookUrl is set).");
        }
        if (inbox.MaxMessageBytes is < 256 or > InboxSettings.MaxMessageBytesLimit)
        {
            yield return new("inbox.maxMessageBytes", "invalid_inbox_size", $"inbox.maxMessageBytes must be between 256 and {InboxSettings.MaxMessageBytesLimit}.");
        }
        if (inbox.AutoReply is { Length: > MaxAutoReplyChars })
        {
            yield return new("inbox.autoReply", "invalid_inbox_auto_reply", $"inbox.autoReply may have at most {MaxAutoReplyChars} characters.");
        }
        if (inbox.Allow.Count > MaxAllowEntries)
        {
            yield return new("inbox.allow", "invalid_inbox_allow", $"inbox.allow may have at most {MaxAllowEntries} entries.");
        }
        foreach (var entry in inbox.Allow.Where(e => !IsAllowEntry(e)))
        {
            yield return new("inbox.allow", "invalid_inbox_allow", $"'{entry}' is not a wallet (0x + 40 hex), a payer id (payer_...) or an email address.");
        }
        if (inbox.Block.Count > MaxAllowEntries)
        {
            yield return new("inbox.block", "invalid_inbox_block", $"inbox.block may have at most {MaxAllowEntries} entries.");
        }
        foreach (var entry in inbox.Block.Where(e => !IsAllowEntry(e)))
        {
            yield return new("inbox.block", "invalid_inbox_block", $"'{entry}' is not a wallet (0x + 40 hex), a payer id (payer_...) or an email address.");
        }
    }

    /// <summary>One bare address, no display name, no line break (it becomes a header).</summary>
    public static bool IsAddress(string? value) =>
        !string.IsNullOrWhiteSpace(value) && value.Length <= 254 && value.AsSpan().IndexOfAny('\r', '\n') < 0
        && MailAddress.TryCreate(value, out var parsed) && parsed.Address == value && parsed.DisplayName.Length == 0;

    private static bool IsAllowEntry(string entry) =>
        (entry.Length == 42 && entry.StartsWith("0x", StringComparison.Ordinal) && !entry.AsSpan(2).ContainsAnyExcept(LowerHex))
        || (entry.StartsWith("payer_", StringComparison.Ordinal) && entry.Length <= 64)
        || IsAddress(entry);
}
