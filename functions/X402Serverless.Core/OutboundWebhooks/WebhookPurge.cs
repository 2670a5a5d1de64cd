namespace X402Serverless.Core.OutboundWebhooks;

/// <summary>What one retention batch removed: deliveries that had ended, and events none of whose deliveries was left.</summary>
public sealed record WebhookPurge(int Deliveries, int Events);
