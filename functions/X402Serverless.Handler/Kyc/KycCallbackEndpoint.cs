using Microsoft.Extensions.Options;
using X402Serverless.Core.Kyc;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Webhooks;
using X402Serverless.Handler.Hosting;
using X402Serverless.Handler.Problems;
using X402Serverless.Handler.Webhooks;

namespace X402Serverless.Handler.Kyc;

/// <summary>
/// POST /hooks/kyc: the identity provider's decision about a payer. Verified (Kyc-Signature, Stripe's scheme),
/// checked for shape so the provider hears about a malformed event at once, stored once by id and acknowledged;
/// applied from the queue (KycEventWorker).
/// </summary>
internal static class KycCallbackEndpoint
{
    public const string SignatureHeader = "Kyc-Signature";

    public static void Map(IEndpointRouteBuilder app) => app.MapPost("/hooks/kyc", HandleAsync);

    private static async Task<IResult> HandleAsync(
        HttpContext http, [FromKeyedServices(WebhookSources.Kyc)] IWebhookInbox events, Settlement.JobQueues queues, TimeProvider time, IOptions<KycOptions> options)
    {
        var settings = options.Value;
        if (SecretValue.Resolved(settings.WebhookSecret) is not { } secret)
        {
            return Problem.Of(StatusCodes.Status404NotFound, "kyc_not_configured", "Identity verification is not configured here.");
        }
        var (payload, problem) = await WebhookReceiver.ReadVerifiedAsync(http, SignatureHeader, secret, time, settings.ToleranceSeconds);
        if (payload is null)
        {
            return problem!;
        }
        if (!KycEvent.TryParse(payload, out var parsed, out var error))
        {
            return Problem.Of(StatusCodes.Status400BadRequest, "invalid_event", "The KYC event is malformed.", error);
        }
        var isNew = await WebhookReceiver.StoreOnceAsync(events, queues, WebhookSources.Kyc, parsed!.Id, parsed.Type, payload, time, http.RequestAborted);
        return TypedResults.Accepted((string?)null, new { received = true, duplicate = !isNew });
    }
}
