using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using X402Serverless.Core.OutboundWebhooks;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Hosting;

namespace X402Serverless.Handler.OutboundWebhooks;

/// <summary>
/// Each organisation's endpoints as last read, so raising an event on a hot path (an inline settlement, a charge) costs
/// no store round trip for an organisation without endpoints: the store is read at most once per
/// <see cref="OutboundWebhookOptions.EndpointCacheSeconds"/>, and a change made through this instance applies at once.
/// </summary>
internal sealed class WebhookEndpointCache(IWebhookEndpointStore store, TimeProvider time, IOptions<OutboundWebhookOptions> options)
{
    private readonly ConcurrentDictionary<string, (DateTimeOffset Until, IReadOnlyList<WebhookEndpoint> Endpoints)> _byOrganisation = new(StringComparer.Ordinal);

    public async ValueTask<IReadOnlyList<WebhookEndpoint>> SubscribedAsync(string organisationId, string eventType, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (!_byOrganisation.TryGetValue(organisationId, out var entry) || entry.Until <= now)
        {
            var endpoints = await store.ListAsync(organisationId, cancellationToken);
            entry = (now + TimeSpan.FromSeconds(options.Value.EndpointCacheSeconds), endpoints);
            _byOrganisation[organisationId] = entry;
        }
        return entry.Endpoints.Count == 0 ? [] : entry.Endpoints.Where(e => e.Subscribes(eventType)).ToList();
    }

    public void Invalidate(string organisationId) => _byOrganisation.TryRemove(organisationId, out _);
}
