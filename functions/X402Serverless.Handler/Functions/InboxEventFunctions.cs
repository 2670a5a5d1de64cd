using System.Text.Json;
using X402Serverless.Core.Webhooks;

namespace X402Serverless.Handler.Functions;

/// <summary>
/// POST /StripeEventWorker and POST /KycEventWorker: the queue-triggered processing of a stored event,
/// {"eventId":"..."}. A failure answers 500 so the host redelivers the message.
/// </summary>
internal static class InboxEventFunctions
{
    public static void Map(IEndpointRouteBuilder app)
    {
        MapOne(app, "/StripeEventWorker", WebhookSources.Stripe, "Stripe");
        MapOne(app, "/KycEventWorker", WebhookSources.Kyc, "KYC");
    }

    private static void MapOne(IEndpointRouteBuilder app, string route, string source, string label) =>
        app.MapPost(route, async (HttpContext http, IEnumerable<InboxProcessor> processors) =>
        {
            var processor = processors.Single(p => p.Source == source);
            var message = await InvocationRequest.ReadBindingAsync(http.Request, "evt", http.RequestAborted);
            var outcome = message is { ValueKind: JsonValueKind.Object } m && m.TryGetProperty("eventId", out var id) && id.ValueKind == JsonValueKind.String
                ? await processor.ProcessAsync(id.GetString()!, http.RequestAborted)
                : "ignored: no eventId";
            return Results.Json(new Dictionary<string, object?>
            {
                ["Outputs"] = new Dictionary<string, object?>(),
                ["Logs"] = new[] { $"{label} event: {outcome}" },
                ["ReturnValue"] = null,
            });
        });
}
