namespace X402Serverless.Core.OutboundWebhooks;

/// <summary>
/// One event for one endpoint, stored before anything is sent and delivered by a durable job: at least once, every
/// attempt under the same <see cref="EventId"/> so a receiver can drop repeats. <see cref="Attempts"/> doubles as the
/// row's version, so a claim or an outcome is a conditional write ("if still this status and attempt").
/// </summary>
public sealed record WebhookDelivery
{
    public required string Id { get; init; }

    public required string EndpointId { get; init; }

    public required string OrganisationId { get; init; }

    /// <summary>The event's id ("evt_…"): the same on every attempt and on a redelivery.</summary>
    public required string EventId { get; init; }

    public required string EventType { get; init; }

    /// <summary>The exact JSON body sent (and signed).</summary>
    public required string Payload { get; init; }

    /// <summary><see cref="DeliveryStatuses"/>.</summary>
    public required string Status { get; init; }

    public int Attempts { get; init; }

    /// <summary>The attempts made before the latest redelivery: the attempt limit counts from here.</summary>
    public int AttemptsBefore { get; init; }

    /// <summary>Pending: when the next attempt is due. Sending: when the claim's lease ends (then it is due again).</summary>
    public required DateTimeOffset NextAttemptAt { get; init; }

    /// <summary>Every attempt, oldest first (bounded by the attempt limit).</summary>
    public IReadOnlyList<WebhookAttempt> Log { get; init; } = [];

    public required DateTimeOffset CreatedAt { get; init; }

    public required DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>What one attempt saw: when, the receiver's status (none when it was not reached), how long, and a bounded snippet.</summary>
public sealed record WebhookAttempt(DateTimeOffset At, int? StatusCode, long DurationMs, string? Response, string? Error);

/// <summary>A delivery's life: pending ⇄ sending → delivered | failed; a redelivery makes it pending again.</summary>
public static class DeliveryStatuses
{
    public const string Pending = "pending";
    public const string Sending = "sending";
    public const string Delivered = "delivered";
    public const string Failed = "failed";

    /// <summary>What an API caller reads: a claim in progress is still "pending".</summary>
    public static string Public(string status) => status == Sending ? Pending : status;
}
