using System.Text.Json;
using X402Serverless.Core.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Webhooks;
using X402Serverless.Handler.Hosting;
using X402Serverless.Handler.Problems;
using X402Serverless.Handler.Webhooks;

namespace X402Serverless.Handler.Stripe;

/// <summary>
/// POST /hooks/stripe: verifies the signature over the exact bytes received, stores the event once (by id) and
/// acknowledges; the event is processed from the queue.
/// </summary>
internal static class StripeWebhookEndpoint
{
    public static void Map(IEndpointRouteBuilder app) => app.MapPost("/hooks/stripe", HandleAsync);

    private static async Task<IResult> HandleAsync(
        HttpContext http, [FromKeyedServices(WebhookSources.Stripe)] IWebhookInbox events, Settlement.JobQueues queues, TimeProvider time, IOptions<StripeOptions> options)
    {
        var settings = options.Value;
        if (SecretValue.Resolved(settings.WebhookSecret) is not { } webhookSecret)
        {
            return Problem.Of(StatusCodes.Status404NotFound, "stripe_not_configured", "Card payments are not configured here.");
        }
        var (payload, problem) = await WebhookReceiver.ReadVerifiedAsync(http, "Stripe-Signature", webhookSecret, time, settings.ToleranceSeconds);
        if (payload is null)
        {
            return problem!;
        }
        if (!StrictJson.TryParse(payload, out var root) || root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("id", out var idElement) || idElement.ValueKind != JsonValueKind.String
            || !root.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
        {
            return Problem.Of(StatusCodes.Status400BadRequest, "invalid_event", "The event is not a Stripe event object.");
        }
        var id = idElement.GetString()!;
        var type = typeElement.GetString()!;
        var isNew = await WebhookReceiver.StoreOnceAsync(events, queues, WebhookSources.Stripe, id, type, payload, time, http.RequestAborted);
        return TypedResults.Ok(new { received = true, duplicate = !isNew });
    }
}
