namespace X402Serverless.Core.Inbox;

/// <summary>
/// What makes a paid link an inbox: where paid messages are delivered, how large one may be, an optional automatic
/// answer, and the senders (wallets, payer account ids, payer email addresses) who write for free. The price, payment
/// types and recipient wallet are the link's own, so a message is paid through the same charge as any paid call.
/// </summary>
public sealed record InboxSettings
{
    /// <summary>Upper bound of <see cref="MaxMessageBytes"/>: small enough that an escaped message fits one Table Storage entity.</summary>
    public const int MaxMessageBytesLimit = 64 * 1024;

    public const int DefaultMaxMessageBytes = 16 * 1024;

    /// <summary>The owner's address the messages are mailed to (a bare address, validated); empty: no mail (a webhook only).</summary>
    public required string DeliverTo { get; init; }

    /// <summary>Where messages are also (or instead) posted as signed JSON; null: mail only. Checked as webhook endpoints are (SSRF policy).</summary>
    public string? WebhookUrl { get; init; }

    /// <summary>The webhook's signing secrets, sealed at rest; every active one signs a delivery (rotation, as for webhook endpoints).</summary>
    public IReadOnlyList<OutboundWebhooks.WebhookSecret> WebhookSecrets { get; init; } = [];

    /// <summary>Largest JSON body accepted, in bytes (subject, body and reply-to together).</summary>
    public int MaxMessageBytes { get; init; } = DefaultMaxMessageBytes;

    /// <summary>Plain text mailed back to the sender's reply-to once their message is delivered; null: none.</summary>
    public string? AutoReply { get; init; }

    /// <summary>Who writes free: 0x wallets (lower case), payer ids (payer_...), email addresses (lower case).</summary>
    public IReadOnlyList<string> Allow { get; init; } = [];

    /// <summary>
    /// Who may not write at all, refused before any payment (so never charged): 0x wallets and email addresses (lower
    /// case), payer ids. A reply-to entry blocks a message claiming that reply-to (a sender can always claim another
    /// one, so it is a nuisance filter; wallets and payer ids are proven by the payment).
    /// </summary>
    public IReadOnlyList<string> Block { get; init; } = [];

    /// <summary>The upstream an inbox without mail shows: not a URL anything forwards to (the webhook URL is kept in <see cref="WebhookUrl"/>).</summary>
    public const string WebhookOnlyUpstream = "inbox:webhook";

    public bool Mails => DeliverTo.Length > 0;

    /// <summary>The link's upstream for an inbox: never forwarded to, it names where mail goes for lists and views.</summary>
    public static string UpstreamFor(string deliverTo) => deliverTo.Length > 0 ? "mailto:" + deliverTo : WebhookOnlyUpstream;

    public bool Blocks(string? sender) => sender is not null && Block.Contains(sender.ToLowerInvariant(), StringComparer.Ordinal);

    public bool Allows(string? sender) => sender is not null && Allow.Contains(sender.ToLowerInvariant(), StringComparer.Ordinal);
}
