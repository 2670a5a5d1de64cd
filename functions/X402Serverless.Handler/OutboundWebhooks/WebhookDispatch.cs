using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using X402Serverless.Core.Inbox;
using X402Serverless.Core.OutboundWebhooks;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Hosting;

namespace X402Serverless.Handler.OutboundWebhooks;

/// <summary>
/// One attempt of a due delivery: claimed by a conditional write (status and attempt unchanged), so two workers, or a
/// pass run twice, never both send it; then posted, and the attempt logged against that claim. A failure is retried
/// with exponential backoff and jitter; after the last attempt the delivery is failed. Delivered is final until an
/// explicit redelivery.
/// </summary>
internal sealed partial class WebhookDispatch(
    IWebhookEndpointStore store,
    WebhookSender sender,
    ISecretSealer sealer,
    TimeProvider time,
    IOptions<OutboundWebhookOptions> options,
    ILogger<WebhookDispatch> logger)
{
    /// <summary>The log keeps this many attempts (the newest), so a much-redelivered event stays one bounded row.</summary>
    public const int KeptAttempts = 50;

    public async Task<string> RunAsync(WebhookDelivery due, CancellationToken cancellationToken)
    {
        var o = options.Value;
        var now = time.GetUtcNow();
        if (due.Status is not (DeliveryStatuses.Pending or DeliveryStatuses.Sending))
        {
            return "skipped: not due";
        }
        var endpoint = await store.GetAsync(due.OrganisationId, due.EndpointId, cancellationToken);
        var claimed = due with
        {
            Status = DeliveryStatuses.Sending,
            Attempts = due.Attempts + 1,
            NextAttemptAt = now + TimeSpan.FromSeconds(o.LeaseSeconds),
            UpdatedAt = now,
        };
        if (!await store.TryUpdateDeliveryAsync(claimed, due.Status, due.Attempts, cancellationToken))
        {
            return "skipped: claimed elsewhere";
        }
        WebhookAttempt attempt;
        if (endpoint is null)
        {
            attempt = new(now, null, 0, null, "The endpoint was deleted.");
        }
        else if (!endpoint.Enabled && due.EventType != WebhookEventTypes.Test)
        {
            attempt = new(now, null, 0, null, "The endpoint is disabled.");
        }
        else
        {
            attempt = await sender.SendAsync(claimed, endpoint.Url, Secrets(endpoint, now), cancellationToken);
        }
        now = time.GetUtcNow();
        var log = claimed.Log.Append(attempt).TakeLast(KeptAttempts).ToList();
        var backoff = new DeliveryBackoff(TimeSpan.FromSeconds(o.FirstRetrySeconds), TimeSpan.FromSeconds(o.MaxRetrySeconds), o.MaxAttempts);
        var made = claimed.Attempts - claimed.AttemptsBefore;
        if (WebhookSender.Succeeded(attempt))
        {
            await store.TryUpdateDeliveryAsync(claimed with { Status = DeliveryStatuses.Delivered, Log = log, UpdatedAt = now, NextAttemptAt = now },
                DeliveryStatuses.Sending, claimed.Attempts, CancellationToken.None);
            Log.Delivered(logger, claimed.Id, claimed.EventType, claimed.EndpointId, claimed.Attempts);
            return "delivered";
        }
        if (endpoint is { Enabled: true } && made < backoff.MaxAttempts)
        {
            var next = now + Jittered(backoff.After(made));
            await store.TryUpdateDeliveryAsync(claimed with { Status = DeliveryStatuses.Pending, Log = log, UpdatedAt = now, NextAttemptAt = next },
                DeliveryStatuses.Sending, claimed.Attempts, CancellationToken.None);
            Log.Retrying(logger, claimed.Id, claimed.Attempts, attempt.StatusCode ?? 0, next);
            return "retry";
        }
        await store.TryUpdateDeliveryAsync(claimed with { Status = DeliveryStatuses.Failed, Log = log, UpdatedAt = now, NextAttemptAt = now },
            DeliveryStatuses.Sending, claimed.Attempts, CancellationToken.None);
        Log.Failed(logger, claimed.Id, claimed.EventType, claimed.EndpointId, claimed.Attempts);
        return "failed";
    }

    private List<string> Secrets(WebhookEndpoint endpoint, DateTimeOffset now) =>
        endpoint.ActiveSecrets(now).Select(s => sealer.Unseal(s.Sealed)).ToList();

    // Between 3/4 and 5/4 of the backoff: receivers recovering from an outage are not hit by every sender at once.
    private static TimeSpan Jittered(TimeSpan delay) => delay * (0.75 + (RandomNumberGenerator.GetInt32(0, 1001) / 2000.0));

    private static partial class Log
    {
        [LoggerMessage(141, LogLevel.Information, "Webhook delivery {DeliveryId} ({EventType}) to endpoint {EndpointId} delivered (attempt {Attempt}).")]
        public static partial void Delivered(ILogger logger, string deliveryId, string eventType, string endpointId, int attempt);

        [LoggerMessage(142, LogLevel.Warning, "Webhook delivery {DeliveryId}: attempt {Attempt} failed (status {Status}); retrying at {NextAttempt}.")]
        public static partial void Retrying(ILogger logger, string deliveryId, int attempt, int status, DateTimeOffset nextAttempt);

        [LoggerMessage(143, LogLevel.Warning, "Webhook delivery {DeliveryId} ({EventType}) to endpoint {EndpointId} failed after {Attempts} attempts.")]
        public static partial void Failed(ILogger logger, string deliveryId, string eventType, string endpointId, int attempts);
    }
}
