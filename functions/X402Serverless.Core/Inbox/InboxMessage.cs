using X402Serverless.Core.Money;

namespace X402Serverless.Core.Inbox;

/// <summary>
/// A paid (or allowed) message to an inbox link, stored before the sender is answered and delivered by a durable job.
/// Its id is the sender's receipt: 128 random bits, nothing else derived from it. <see cref="Attempts"/> doubles as
/// the row's version, so a claim or an outcome is a conditional write ("if still this status and attempt").
/// </summary>
public sealed record InboxMessage
{
    public required string Id { get; init; }

    public required string LinkId { get; init; }

    public required string OrganisationId { get; init; }

    /// <summary>The owner's address when the message was paid; empty: not mailed (the inbox posts to a webhook only).</summary>
    public required string DeliverTo { get; init; }

    /// <summary>Whether the message is also posted to the inbox's webhook (its URL and secrets are read from the link at each attempt).</summary>
    public bool Webhook { get; init; }

    /// <summary>The targets (<see cref="DeliveryTargets"/>) that already accepted it: never sent to again, whatever later attempts do.</summary>
    public IReadOnlyList<string>? DeliveredTo { get; init; }

    public required string Subject { get; init; }

    public required string Body { get; init; }

    public string? ReplyTo { get; init; }

    /// <summary>Files sent with the message (checked: safe names, allowed types, within the inbox's size); null: none.</summary>
    public IReadOnlyList<InboxAttachment>? Attachments { get; init; }

    /// <summary>The owner's auto-reply text when the message was paid (sent to <see cref="ReplyTo"/> once delivered).</summary>
    public string? AutoReply { get; init; }

    /// <summary><see cref="MessageStatuses"/>.</summary>
    public required string Status { get; init; }

    public int Attempts { get; init; }

    /// <summary>Queued: when the next attempt is due. Sending: when the claim's lease ends (then it is due again).</summary>
    public required DateTimeOffset NextAttemptAt { get; init; }

    /// <summary>How it was paid (<see cref="Links.PaymentTypes"/>) or "free" (an allowed sender).</summary>
    public required string PaidWith { get; init; }

    public Usd Amount { get; init; }

    /// <summary>Balances: the hold that was captured (its id keys the refund entry) and the account it came from.</summary>
    public string? HoldId { get; init; }

    public string? HoldSource { get; init; }

    /// <summary>The operator's share taken at capture, given back on a refund.</summary>
    public Usd Fee { get; init; }

    /// <summary>x402: the payment's id; the payer wallet. A pass: the pass's id; its holder's payer id or wallet.</summary>
    public string? PaymentId { get; init; }

    public string? Payer { get; init; }

    /// <summary>A pass: the spend its call was taken under, which decides a message left held (kept or given back).</summary>
    public string? SpendId { get; init; }

    /// <summary>Set when a failed delivery's money could not be given back automatically (on chain): owed by the owner.</summary>
    public bool RefundOwed { get; init; }

    public bool Refunded { get; init; }

    public string? LastError { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required DateTimeOffset UpdatedAt { get; init; }

    public DateTimeOffset? DeliveredAt { get; init; }

    /// <summary>Failed, paid, and its refund not yet decided either way: the refund sweep finishes it.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool RefundPending => Status == MessageStatuses.Failed && Paid && !Refunded && !RefundOwed;

    /// <summary>
    /// Whether the sender paid for it, so a failed delivery gives something back: money, or a pass's call (a pass
    /// message moves no money itself: the pass was paid when bought).
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool Paid => PaidWith == InboxPaidWith.Pass || (PaidWith != InboxPaidWith.Free && Amount.IsPositive);

    /// <summary>Where this message goes: mail, the webhook, or both (an empty list only for a malformed row).</summary>
    public IReadOnlyList<string> Targets() =>
        [.. DeliverTo.Length > 0 ? [DeliveryTargets.Email] : Array.Empty<string>(), .. Webhook ? [DeliveryTargets.Webhook] : Array.Empty<string>()];

    /// <summary>The RFC 5322 Message-ID every attempt uses, so a resend after a crash is recognisable as the same mail.</summary>
    public string MessageIdHeader(string domain) => $"{Id}@{domain}";
}

/// <summary>A message's life: held (stored, payment not yet captured) → queued ⇄ sending → delivered | failed.</summary>
public static class MessageStatuses
{
    /// <summary>Stored while the charge is captured: never delivered, never shown; removed if the capture fails.</summary>
    public const string Held = "held";
    public const string Queued = "queued";
    public const string Sending = "sending";
    public const string Delivered = "delivered";
    public const string Failed = "failed";

    /// <summary>What the sender reads: a claim in progress is still "queued" to them.</summary>
    public static string Public(string status) => status == Sending ? Queued : status;
}

/// <summary>The places a message is delivered to; the message is delivered when every one of its targets accepted it.</summary>
public static class DeliveryTargets
{
    public const string Email = "email";
    public const string Webhook = "webhook";
}

/// <summary>The "paid with" values of a message besides the link's payment types.</summary>
public static class InboxPaidWith
{
    /// <summary>An allowed sender: no one paid.</summary>
    public const string Free = "free";

    /// <summary>One call of the sender's pass on the inbox (<see cref="InboxMessage.PaymentId"/> names the pass).</summary>
    public const string Pass = "pass";
}
