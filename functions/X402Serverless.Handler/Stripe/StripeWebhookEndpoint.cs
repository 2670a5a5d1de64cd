using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Stripe;
using X402Serverless.Handler.Hosting;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Stripe;

/// <summary>
/// POST /hooks/stripe: verifies the signature over the exact bytes received, stores the event once (by id) and
/// acknowledges; the event is processed from the queue, so Stripe never waits on the ledger.
/// </summary>
internal static class StripeWebhookEndpoint
{
    private const int MaxBody = 512 * 1024;

    public static void Map(IEndpointRouteBuilder app) => app.MapPost("/hooks/stripe", HandleAsync);

    private static async Task<IResult> HandleAsync(HttpContext http, IStripeEventStore events, Settlement.JobQueues queues, TimeProvider time, IOptions<GatewayOptions> options)
    {
        var settings = options.Value.Stripe;
        var webhookSecret = SecretValue.Resolved(settings.WebhookSecret);
        if (webhookSecret is null)
        {
            return Problem.Of(StatusCodes.Status404NotFound, "stripe_not_configured", "Card payments are not configured here.");
        }
        using var buffer = new MemoryStream();
        await http.Request.Body.CopyToAsync(buffer, http.RequestAborted);
        if (buffer.Length > MaxBody)
        {
            return Problem.Of(StatusCodes.Status413PayloadTooLarge, "payload_too_large", "The webhook body is too large.");
        }
        var payload = buffer.ToArray();
        var verdict = StripeSignature.Verify(payload, http.Request.Headers["Stripe-Signature"].ToString(), webhookSecret,
            time.GetUtcNow(), TimeSpan.FromSeconds(settings.ToleranceSeconds));
        if (verdict != StripeSignatureResult.Valid)
        {
            return Problem.Of(StatusCodes.Status400BadRequest, verdict == StripeSignatureResult.Stale ? "signature_stale" : "signature_invalid",
                "The Stripe-Signature header does not verify.");
        }
        string id;
        string type;
        try
        {
            using var doc = JsonDocument.Parse(payload);
            id = doc.RootElement.GetProperty("id").GetString() ?? "";
            type = doc.RootElement.GetProperty("type").GetString() ?? "";
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return Problem.Of(StatusCodes.Status400BadRequest, "invalid_event", "The event is not a Stripe event object.");
        }
        var isNew = await events.TryAddAsync(id, type, Encoding.UTF8.GetString(payload), time.GetUtcNow(), http.RequestAborted);
        if (isNew)
        {
            await queues.StripeEventAsync(id);
        }
        return TypedResults.Ok(new { received = true, duplicate = !isNew });
    }
}
