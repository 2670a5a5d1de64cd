using Microsoft.Extensions.Options;
using X402Serverless.Core.Links;
using X402Serverless.Core.OutboundWebhooks;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Hosting;
using X402Serverless.Handler.Requests;

namespace X402Serverless.Handler.OutboundWebhooks;

/// <summary>
/// What the API and the console both do to endpoints: validate, create (the secret returned once), change, rotate the
/// secret, redeliver. Every read names the caller's organisation, so another organisation's endpoint is "not found".
/// </summary>
internal sealed class WebhookEndpointEditor(
    IWebhookEndpointStore store,
    WebhookEndpointCache cache,
    WebhookUrlCheck urls,
    ISecretSealer sealer,
    WebhookDeliverySignal signal,
    TimeProvider time,
    IOptions<OutboundWebhookOptions> options)
{
    public const int MaxEndpoints = 16;
    public const int MaxDescription = 200;

    public IWebhookEndpointStore Store => store;

    public async Task<(WebhookEndpoint? Endpoint, string? Secret, List<ValidationError> Errors)> CreateAsync(
        string organisationId, WebhookEndpointRequest request, CancellationToken cancellationToken)
    {
        var errors = new List<ValidationError>();
        var (url, urlErrors) = await urls.CheckAsync(request.Url, cancellationToken);
        errors.AddRange(urlErrors);
        var events = CheckEvents(request.Events ?? [], errors);
        CheckDescription(request.Description, errors);
        if (errors.Count > 0)
        {
            return (null, null, errors);
        }
        if ((await store.ListAsync(organisationId, cancellationToken)).Count >= MaxEndpoints)
        {
            return (null, null, [new("body", "too_many_endpoints", $"An organisation may have at most {MaxEndpoints} webhook endpoints.")]);
        }
        var now = time.GetUtcNow();
        var secret = WebhookSigner.NewSecret();
        var endpoint = new WebhookEndpoint
        {
            Id = WebhookIds.Endpoint(),
            OrganisationId = organisationId,
            Url = url!,
            Description = Blank(request.Description),
            Events = events,
            Enabled = request.Enabled ?? true,
            Secrets = [new WebhookSecret(WebhookIds.Secret(), sealer.Seal(secret), now, null)],
            CreatedAt = now,
            UpdatedAt = now,
        };
        await store.CreateAsync(endpoint, cancellationToken);
        cache.Invalidate(organisationId);
        return (endpoint, secret, []);
    }

    public async Task<(WebhookEndpoint? Endpoint, List<ValidationError> Errors)> UpdateAsync(
        WebhookEndpoint endpoint, WebhookEndpointRequest request, CancellationToken cancellationToken)
    {
        var errors = new List<ValidationError>();
        var updated = endpoint with { UpdatedAt = time.GetUtcNow() };
        if (request.Url is not null)
        {
            var (url, urlErrors) = await urls.CheckAsync(request.Url, cancellationToken);
            errors.AddRange(urlErrors);
            updated = updated with { Url = url ?? endpoint.Url };
        }
        if (request.Events is not null)
        {
            updated = updated with { Events = CheckEvents(request.Events, errors) };
        }
        if (request.Description is not null)
        {
            CheckDescription(request.Description, errors);
            updated = updated with { Description = Blank(request.Description) };
        }
        if (request.Enabled is { } enabled)
        {
            updated = updated with { Enabled = enabled };
        }
        if (errors.Count > 0)
        {
            return (null, errors);
        }
        var saved = await store.UpdateAsync(updated, cancellationToken);
        cache.Invalidate(endpoint.OrganisationId);
        return (saved ? updated : null, []);
    }

    public async Task<bool> DeleteAsync(string organisationId, string id, CancellationToken cancellationToken)
    {
        var deleted = await store.DeleteAsync(organisationId, id, cancellationToken);
        cache.Invalidate(organisationId);
        return deleted;
    }

    /// <summary>
    /// A new secret, returned this once; the others stay valid for the grace period (one already ending keeps its
    /// end), and those past it are dropped, so the list stays short.
    /// </summary>
    public async Task<(WebhookEndpoint? Endpoint, string Secret)> RotateAsync(WebhookEndpoint endpoint, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var graceEnds = now + TimeSpan.FromHours(options.Value.SecretGraceHours);
        var secret = WebhookSigner.NewSecret();
        var kept = endpoint.ActiveSecrets(now).Select(s => s with { ExpiresAt = s.ExpiresAt is { } end && end < graceEnds ? end : graceEnds });
        var updated = endpoint with
        {
            Secrets = [.. kept, new WebhookSecret(WebhookIds.Secret(), sealer.Seal(secret), now, null)],
            UpdatedAt = now,
        };
        var saved = await store.UpdateAsync(updated, cancellationToken);
        cache.Invalidate(endpoint.OrganisationId);
        return (saved ? updated : null, secret);
    }

    /// <summary>Sends a finished delivery again (same event id and body), with a fresh attempt budget; false when one is already under way.</summary>
    public async Task<WebhookDelivery?> RedeliverAsync(WebhookDelivery delivery, CancellationToken cancellationToken)
    {
        if (delivery.Status is DeliveryStatuses.Pending or DeliveryStatuses.Sending)
        {
            return null;
        }
        var now = time.GetUtcNow();
        var again = delivery with { Status = DeliveryStatuses.Pending, AttemptsBefore = delivery.Attempts, NextAttemptAt = now, UpdatedAt = now };
        if (!await store.TryUpdateDeliveryAsync(again, delivery.Status, delivery.Attempts, cancellationToken))
        {
            return null;
        }
        signal.Notify();
        return again;
    }

    private static List<string> CheckEvents(List<string> events, List<ValidationError> errors)
    {
        if (events.Count == 0)
        {
            errors.Add(new("events", "missing_events", $"events lists what to send, from: {string.Join(", ", WebhookEventTypes.All)}."));
            return [];
        }
        var unknown = events.Where(e => !WebhookEventTypes.All.Contains(e, StringComparer.Ordinal)).Distinct(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
        {
            errors.Add(new("events", "unknown_event", $"Unknown event(s) {string.Join(", ", unknown.Select(u => $"'{Shown(u)}'"))}; known: {string.Join(", ", WebhookEventTypes.All)}."));
        }
        return WebhookEventTypes.All.Where(events.Contains).ToList();
    }

    private static void CheckDescription(string? description, List<ValidationError> errors)
    {
        if (description is { Length: > MaxDescription } || (description is not null && description.Any(char.IsControl)))
        {
            errors.Add(new("description", "invalid_description", $"description is one line of at most {MaxDescription} characters."));
        }
    }

    private static string Shown(string value) => value.Length <= 40 ? value : value[..40] + "…";

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}
