namespace X402Serverless.Core.OutboundWebhooks;

/// <summary>
/// An event as first stored: its id is derived from what it reports (<see cref="WebhookIds.EventFor"/>), so raising it
/// again (a job re-run after a crash) finds this row and fans out the same bytes, never a second event.
/// </summary>
public sealed record WebhookEvent(string Id, string OrganisationId, string Type, string Payload, DateTimeOffset CreatedAt);
