using System.Text.Json;
using X402Serverless.Core.Stripe;

namespace X402Serverless.Handler.Functions;

/// <summary>POST /StripeEventWorker: the queue-triggered processing of a stored event, {"eventId":"evt_..."}.</summary>
internal static class StripeEventFunction
{
    public static void Map(IEndpointRouteBuilder app) => app.MapPost("/StripeEventWorker", async (HttpContext http, StripeEventProcessor processor) =>
    {
        var message = await InvocationRequest.ReadBindingAsync(http.Request, "evt", http.RequestAborted);
        var outcome = message is { ValueKind: JsonValueKind.Object } m && m.TryGetProperty("eventId", out var id) && id.ValueKind == JsonValueKind.String
            ? await processor.ProcessAsync(id.GetString()!, http.RequestAborted)
            : "ignored: no eventId";
        return Results.Json(new Dictionary<string, object?>
        {
            ["Outputs"] = new Dictionary<string, object?>(),
            ["Logs"] = new[] { $"Stripe event: {outcome}" },
            ["ReturnValue"] = null,
        });
    });
}
