namespace X402Serverless.Core.OutboundWebhooks;

/// <summary>
/// Where an organisation wants its events sent, and which ones. Its signing secrets are stored sealed; every secret
/// still active signs each delivery, so a receiver rotating its secret keeps verifying throughout.
/// </summary>
public sealed record WebhookEndpoint
{
    public required string Id { get; init; }

    public required string OrganisationId { get; init; }

    public required string Url { get; init; }

    public string? Description { get; init; }

    /// <summary>Names from <see cref="WebhookEventTypes.All"/>.</summary>
    public required IReadOnlyList<string> Events { get; init; }

    public bool Enabled { get; init; } = true;

    public required IReadOnlyList<WebhookSecret> Secrets { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required DateTimeOffset UpdatedAt { get; init; }

    public bool Subscribes(string eventType) => Enabled && Events.Contains(eventType, StringComparer.Ordinal);

    /// <summary>The secrets that sign a delivery made at <paramref name="now"/>: the newest and those still in their grace period.</summary>
    public IEnumerable<WebhookSecret> ActiveSecrets(DateTimeOffset now) => Secrets.Where(s => s.ExpiresAt is null || s.ExpiresAt > now);
}

/// <summary>One signing secret, sealed at rest; <see cref="ExpiresAt"/> is set when a newer one replaces it.</summary>
public sealed record WebhookSecret(string Id, string Sealed, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt);
