using System.Globalization;
using System.Security.Cryptography;

namespace X402Serverless.Core.OutboundWebhooks;

/// <summary>Ids: random where nothing else is needed; a delivery's starts with its inverted creation time, so key order is newest first.</summary>
public static class WebhookIds
{
    public static string Endpoint() => "whe_" + Random(12);

    public static string Secret() => "whs_" + Random(8);

    public static string Event() => "evt_" + Random(16);

    public static string Delivery(DateTimeOffset now) =>
        "whd_" + (DateTimeOffset.MaxValue.UtcTicks - now.UtcTicks).ToString("D19", CultureInfo.InvariantCulture) + Random(6);

    private static string Random(int bytes) => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(bytes));
}
