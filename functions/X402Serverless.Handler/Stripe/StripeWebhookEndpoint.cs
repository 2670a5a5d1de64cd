using System.Text;
using System.Text.Json;
using X402Serverless.Core.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Stripe;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Webhooks;
using X402Serverless.Handler.Hosting;
using X402Serverless.Handler.Problems;
using X402Serverless.Handler.Webhooks;

namespace X402Serverless.Handler.Stripe;

/// <summary>
/// POST /hooks/stripe: verifies the signature over the exact bytes received (Stripe.net), stores the event once (by
/// id) and acknowledges; the event is processed from the queue.
/// </summary>
internal static partial class StripeWebhookEndpoint
{
    private const string SignatureHeader = "Stripe-Signature";

    public static void Map(IEndpointRouteBuilder app) => app.MapPost("/hooks/stripe", HandleAsync);

    private static async Task<IResult> HandleAsync(
        HttpContext http, [FromKeyedServices(WebhookSources.Stripe)] IWebhookInbox events, Settlement.JobQueues queues, TimeProvider time,
        IOptions<StripeOptions> options, ILoggerFactory loggers)
    {
        var settings = options.Value;
        if (SecretValue.Resolved(settings.WebhookSecret) is not { } webhookSecret)
        {
            return Problem.Of(StatusCodes.Status404NotFound, "stripe_not_configured", "Card payments are not configured here.");
        }
        var (payload, problem) = await WebhookReceiver.ReadAsync(http);
        if (payload is null)
        {
            return problem!;
        }
        // Bytes that are not UTF-8 decode with replacement characters, which then do not match the signature.
        var verdict = StripeWebhookVerifier.Verify(Encoding.UTF8.GetString(payload), http.Request.Headers[SignatureHeader].ToString(), webhookSecret,
            time.GetUtcNow(), settings.ToleranceSeconds, out var typed);
        if (verdict != WebhookSignatureResult.Valid)
        {
            return WebhookReceiver.SignatureProblem(SignatureHeader, verdict);
        }
        if (!StrictJson.TryParse(payload, out var root) || root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("id", out var idElement) || idElement.ValueKind != JsonValueKind.String
            || !root.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
        {
            return Problem.Of(StatusCodes.Status400BadRequest, "invalid_event", "The event is not a Stripe event object.");
        }
        var id = idElement.GetString()!;
        var type = typeElement.GetString()!;
        if (typed?.ApiVersion is { } version && version != StripeConfiguration.ApiVersion)
        {
            ApiVersionMismatch(loggers.CreateLogger(typeof(StripeWebhookEndpoint).FullName!), id, version, StripeConfiguration.ApiVersion);
        }
        var isNew = await WebhookReceiver.StoreOnceAsync(events, queues, WebhookSources.Stripe, id, type, payload, time, http.RequestAborted);
        return TypedResults.Ok(new { received = true, duplicate = !isNew });
    }

    [LoggerMessage(60, LogLevel.Warning,
        "Stripe event {EventId} has API version {Version}; Stripe.net expects {Expected}. Accepted (only version-stable fields are read); move the webhook endpoint to {Expected}.")]
    private static partial void ApiVersionMismatch(ILogger logger, string eventId, string version, string expected);
}
