using System.Text.Json;
using X402Serverless.Core.OutboundWebhooks;

namespace X402Serverless.Handler.OutboundWebhooks;

/// <summary>An endpoint as the API shows it: its secrets by id and validity only, never their values.</summary>
internal sealed record WebhookEndpointView(
    string Id, string Url, string? Description, IReadOnlyList<string> Events, bool Enabled,
    IReadOnlyList<WebhookSecretView> Secrets, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static WebhookEndpointView From(WebhookEndpoint e, DateTimeOffset now) => new(
        e.Id, e.Url, e.Description, e.Events, e.Enabled,
        e.ActiveSecrets(now).Select(s => new WebhookSecretView(s.Id, s.CreatedAt, s.ExpiresAt)).ToList(), e.CreatedAt, e.UpdatedAt);
}

internal sealed record WebhookSecretView(string Id, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt);

/// <summary>A created endpoint, or a rotation: the one response that carries a secret's value.</summary>
internal sealed record WebhookSecretIssued(WebhookEndpointView Endpoint, string Secret);

internal sealed record WebhookDeliveryView(
    string Id, string EventId, string EventType, string Status, int Attempts, DateTimeOffset? NextAttemptAt,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, JsonElement Payload, IReadOnlyList<WebhookAttempt> Log)
{
    public static WebhookDeliveryView From(WebhookDelivery d) => new(
        d.Id, d.EventId, d.EventType, DeliveryStatuses.Public(d.Status), d.Attempts,
        d.Status is DeliveryStatuses.Pending or DeliveryStatuses.Sending ? d.NextAttemptAt : null,
        d.CreatedAt, d.UpdatedAt, JsonSerializer.Deserialize<JsonElement>(d.Payload), d.Log);
}
