using X402Serverless.Handler.Settlement;

namespace X402Serverless.Handler.Functions;

/// <summary>POST /Maintenance: the timer function (every 5 minutes) running the maintenance pass and the due health probes and webhook deliveries in Azure.</summary>
internal static class MaintenanceFunction
{
    public static void Map(IEndpointRouteBuilder app) => app.MapPost("/Maintenance", async (HttpContext http, MaintenancePass maintenance, Health.LinkHealthProber health, OutboundWebhooks.WebhookDeliveryWorker webhooks) =>
    {
        var recovered = await maintenance.RecoverStaleAsync(http.RequestAborted);
        var failed = await maintenance.ReconcileAsync(http.RequestAborted);
        var redispatched = await maintenance.RedispatchAsync(http.RequestAborted);
        var probed = await health.RunAsync(http.RequestAborted);
        var webhookDeliveries = await webhooks.RunDueAsync(http.RequestAborted);
        if (failed.Count > 0)
        {
            // Every step ran; the invocation still fails, so the host records it and its alerts fire.
            throw new InvalidOperationException($"Maintenance steps failed (logged above): {string.Join(", ", failed)}.");
        }
        return Results.Json(new Dictionary<string, object?>
        {
            ["Outputs"] = new Dictionary<string, object?>(),
            ["Logs"] = new[] { $"Maintenance: {recovered} stale payments recovered, {redispatched} jobs re-dispatched, {probed} links probed, {webhookDeliveries} webhook deliveries attempted." },
            ["ReturnValue"] = null,
        });
    });
}
