using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace X402Serverless.Core.OutboundWebhooks;

/// <summary>
/// Ids: random where nothing else is needed; an event's derived from what it reports and a delivery's from its event and
/// endpoint, so raising the same event twice names the same rows. A delivery's starts with its event's inverted
/// creation time, so key order is newest first.
/// </summary>
public static class WebhookIds
{
    public static string Endpoint() => "whe_" + Random(12);

    public static string Secret() => "whs_" + Random(8);

    public static string Event() => "evt_" + Random(16);

    /// <summary>The id of the event <paramref name="eventType"/> about <paramref name="subject"/> (a payment id, a hold id, ...):
    /// the same however often it is raised.</summary>
    public static string EventFor(string organisationId, string eventType, string subject) =>
        "evt_" + Digest(organisationId, eventType, subject)[..32];

    /// <summary>The one delivery of an event to an endpoint.</summary>
    public static string Delivery(WebhookEvent webhookEvent, string endpointId) =>
        "whd_" + (DateTimeOffset.MaxValue.UtcTicks - webhookEvent.CreatedAt.UtcTicks).ToString("D19", CultureInfo.InvariantCulture)
        + Digest(webhookEvent.Id, endpointId)[..12];

    // Length-prefixed parts, so no two different lists of parts hash alike.
    private static string Digest(params string[] parts) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Concat(parts.Select(p => p.Length.ToString(CultureInfo.InvariantCulture) + ":" + p)))));

    private static string Random(int bytes) => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(bytes));
}
