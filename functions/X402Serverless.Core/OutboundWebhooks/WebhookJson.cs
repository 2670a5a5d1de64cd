using System.Text.Json;

namespace X402Serverless.Core.OutboundWebhooks;

/// <summary>The stored forms: one JSON document each, beside the few fields the stores query and compare on.</summary>
public static class WebhookJson
{
    public static string Write(WebhookEndpoint endpoint) => JsonSerializer.Serialize(endpoint, JsonSerializerOptions.Web);

    public static WebhookEndpoint ReadEndpoint(string json) =>
        JsonSerializer.Deserialize<WebhookEndpoint>(json, JsonSerializerOptions.Web) ?? throw new InvalidDataException("Empty webhook endpoint.");

    public static string Write(WebhookDelivery delivery) => JsonSerializer.Serialize(delivery, JsonSerializerOptions.Web);

    public static WebhookDelivery ReadDelivery(string json) =>
        JsonSerializer.Deserialize<WebhookDelivery>(json, JsonSerializerOptions.Web) ?? throw new InvalidDataException("Empty webhook delivery.");
}
