using X402Serverless.Core.Inbox;
using X402Serverless.Core.Links;
using X402Serverless.Core.Money;

namespace X402Serverless.Handler.ProviderConsole;

/// <summary>
/// The new-inbox form as posted: mapped onto a <see cref="LinkDraft"/> with its "inbox" object, so the console and
/// POST /api/links accept exactly the same inboxes (the shared validator and inbox rules check it).
/// </summary>
internal sealed class NewInboxForm
{
    public string? Name { get; set; }

    public string? Price { get; set; }

    public string? PayTo { get; set; }

    public bool AcceptX402 { get; set; }

    public bool AcceptCredits { get; set; }

    public bool AcceptAllowance { get; set; }

    public string? DeliverTo { get; set; }

    public string? MaxMessageBytes { get; set; }

    /// <summary>Optional: messages are also (or, without an address, only) posted here, signed.</summary>
    public string? WebhookUrl { get; set; }

    public string? AutoReply { get; set; }

    /// <summary>One entry a line (or separated by commas): wallets, payer ids, email addresses.</summary>
    public string? Allow { get; set; }

    public LinkDraft ToDraft() => new()
    {
        Name = NewLinkForm.Blank(Name),
        Price = NewLinkForm.Blank(Price) is { } price ? UsdInput.Of(price) : null,
        PayTo = NewLinkForm.Blank(PayTo),
        Accepts = new[] { (AcceptX402, PaymentTypes.X402), (AcceptCredits, PaymentTypes.Credits), (AcceptAllowance, PaymentTypes.Allowance) }
            .Where(a => a.Item1).Select(a => a.Item2).ToList(),
        Inbox = new InboxDraft
        {
            DeliverTo = NewLinkForm.Blank(DeliverTo) ?? "",
            // Not a number: out of range, so the inbox rules report it by its code.
            MaxMessageBytes = NewLinkForm.Blank(MaxMessageBytes) is { } size ? (int.TryParse(size, out var n) ? n : -1) : null,
            AutoReply = NewLinkForm.Blank(AutoReply),
            WebhookUrl = NewLinkForm.Blank(WebhookUrl),
            Allow = InboxListText.Entries(Allow),
        },
    };
}

/// <summary>A list of senders typed into a text box: one a line, or separated by commas or spaces.</summary>
internal static class InboxListText
{
    public static List<string> Entries(string? text) =>
        (text ?? "").Split([',', ' ', ';', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    public static string Of(IReadOnlyList<string> entries) => string.Join("\n", entries);
}

/// <summary>The block list form on an inbox's page.</summary>
internal sealed class BlockListForm
{
    public string? Block { get; set; }
}

/// <summary>A form with nothing to fill in: an action button (refund, block), posted with its antiforgery token.</summary>
internal sealed class ActionForm
{
    public string? Action { get; set; }
}
