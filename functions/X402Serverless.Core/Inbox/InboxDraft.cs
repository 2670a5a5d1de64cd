namespace X402Serverless.Core.Inbox;

/// <summary>The "inbox" object of POST /api/links: present, the link is an inbox (no upstream).</summary>
public sealed record InboxDraft
{
    public string? DeliverTo { get; init; }

    public int? MaxMessageBytes { get; init; }

    public string? AutoReply { get; init; }

    public IReadOnlyList<string>? Allow { get; init; }

    public IReadOnlyList<string>? Block { get; init; }

    /// <summary>An https URL messages are posted to, signed; "" removes it (on a change). Its secret is issued by the gateway.</summary>
    public string? WebhookUrl { get; init; }

    public InboxSettings ToSettings(InboxSettings? current = null) => new()
    {
        DeliverTo = DeliverTo?.Trim() ?? current?.DeliverTo ?? "",
        MaxMessageBytes = MaxMessageBytes ?? current?.MaxMessageBytes ?? InboxSettings.DefaultMaxMessageBytes,
        AutoReply = AutoReply is null ? current?.AutoReply : AutoReply.Length == 0 ? null : AutoReply,
        Allow = Entries(Allow) ?? current?.Allow ?? [],
        Block = Entries(Block) ?? current?.Block ?? [],
        WebhookUrl = WebhookUrl is null ? current?.WebhookUrl : WebhookUrl.Trim().Length == 0 ? null : WebhookUrl.Trim(),
        WebhookSecrets = current?.WebhookSecrets ?? [],
    };

    private static List<string>? Entries(IReadOnlyList<string>? entries) =>
        entries?.Select(a => a.Trim().ToLowerInvariant()).Where(a => a.Length > 0).Distinct().ToList();
}
