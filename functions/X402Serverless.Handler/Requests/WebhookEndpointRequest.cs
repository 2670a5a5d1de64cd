namespace X402Serverless.Handler.Requests;

/// <summary>POST and PATCH /api/webhooks. On a change, absent fields stay.</summary>
internal sealed record WebhookEndpointRequest
{
    public string? Url { get; init; }

    public List<string>? Events { get; init; }

    public string? Description { get; init; }

    public bool? Enabled { get; init; }
}
