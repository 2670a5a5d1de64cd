using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Options;
using X402Serverless.Core.Health;
using X402Serverless.Core.Links;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Forwarding;
using X402Serverless.Handler.Hosting;
using X402Serverless.Handler.Listings;

namespace X402Serverless.Handler.Health;

/// <summary>
/// One pass of health probes: every listed link whose probe is on and whose last check is at least an interval old
/// gets one unpaid GET of its health path, through the paid path's guarded upstream client (the same SSRF policy on
/// every connection) with the link's own upstream headers and nothing else (no payer, payment or forwarding
/// headers). Answers below 500 are up; 5xx, no answer in time, no connection or a refused address are down. Records of
/// links no longer probed are dropped, so a link without a probe makes no health claim. One pass at a time.
/// </summary>
internal sealed partial class LinkHealthProber(
    ILinkStore links,
    ILinkHealthStore health,
    ISecretSealer sealer,
    HttpMessageInvoker upstreamClient,
    ListingCatalogue catalogue,
    OutboundWebhooks.WebhookEvents events,
    TimeProvider time,
    IOptions<HealthOptions> options,
    ILogger<LinkHealthProber> logger) : IDisposable
{
    // Timer jitter (the Functions timer, a delay that ends a little early) must not make a link wait a whole extra interval.
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(30);

    private readonly SemaphoreSlim _running = new(1, 1);
    private readonly HealthOptions _settings = options.Value;

    public TimeSpan Interval => TimeSpan.FromMinutes(_settings.IntervalMinutes);

    /// <summary>How long a pass starts new probes: within one interval, and well within the Functions host's 10-minute timeout.</summary>
    private TimeSpan PassBudget => TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(30).Ticks,
        Math.Min(Interval.Ticks, TimeSpan.FromMinutes(4).Ticks) - TimeSpan.FromSeconds(_settings.TimeoutSeconds).Ticks));

    public void Dispose() => _running.Dispose();

    /// <summary>Probes the links that are due; returns how many were probed.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        await _running.WaitAsync(cancellationToken);
        try
        {
            return await PassAsync(cancellationToken);
        }
        finally
        {
            _running.Release();
        }
    }

    private async Task<int> PassAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var probed = (await links.ListListedAsync(cancellationToken)).Where(l => l.Listing.Probed && !l.Disabled).ToList();
        var previous = (await health.ListAsync(cancellationToken)).ToDictionary(h => h.LinkId, StringComparer.Ordinal);
        var ids = probed.Select(l => l.Id).ToHashSet(StringComparer.Ordinal);
        var dropped = previous.Keys.Where(id => !ids.Contains(id)).ToList();
        await health.DeleteAsync(dropped, cancellationToken);

        // Longest unchecked first, and no new probe once the pass has run for its budget: links that never answer (a
        // provider's blackholed upstreams) cannot make every pass outlast the host's timeout and lose all it found.
        var due = probed.Where(l => !previous.TryGetValue(l.Id, out var last) || now - last.CheckedAt >= Interval - Slack)
            .OrderBy(l => previous.TryGetValue(l.Id, out var last) ? last.CheckedAt : DateTimeOffset.MinValue).ToList();
        var stopStarting = now + PassBudget;
        var results = new ConcurrentBag<LinkHealth>();
        await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = _settings.Concurrency, CancellationToken = cancellationToken },
            async (link, token) =>
            {
                if (time.GetUtcNow() < stopStarting && await ProbeAsync(link, previous.GetValueOrDefault(link.Id), now, token) is { } result)
                {
                    var last = previous.GetValueOrDefault(link.Id);
                    if (!result.Up && (last is null || last.Up))
                    {
                        // Once per change to down, raised before the result is kept: a pass cut short between the two
                        // finds the same last result next time and raises the same event (its id names that change: the
                        // last check found up, or for a link not probed before, its last edit).
                        var since = last is null ? "edited:" + link.UpdatedAt.UtcTicks : "up:" + last.CheckedAt.UtcTicks;
                        await events.RaiseAsync(link.OrganisationId, Core.OutboundWebhooks.WebhookEventTypes.LinkUnhealthy,
                            FormattableString.Invariant($"{link.Id}:{since}"), new System.Text.Json.Nodes.JsonObject
                        {
                            ["linkId"] = link.Id, ["checkedAt"] = result.CheckedAt, ["status"] = result.Status, ["failure"] = result.Failure,
                            ["lastUpAt"] = result.LastUpAt,
                        }, CancellationToken.None);
                    }
                    // Kept as found, so a pass cut short (the host's timeout, a shutdown) loses only the probes under way.
                    await health.SaveAsync([result], CancellationToken.None);
                    results.Add(result);
                }
            });
        // The catalogue shows what was found at once rather than when its snapshot next expires (one rebuild a pass).
        if (dropped.Count > 0 || !results.IsEmpty)
        {
            catalogue.Invalidate();
        }
        Log.Pass(logger, results.Count, results.Count(r => !r.Up));
        return results.Count;
    }

    private async Task<LinkHealth?> ProbeAsync(PaidLink link, LinkHealth? last, DateTimeOffset checkedAt, CancellationToken cancellationToken)
    {
        if (Target(link) is not { } target)
        {
            Log.NoTarget(logger, link.Id);
            return null;
        }
        List<KeyValuePair<string, string>> headers;
        try
        {
            headers = link.SealedUpstreamHeaders is null
                ? []
                : JsonSerializer.Deserialize<Dictionary<string, string>>(sealer.Unseal(link.SealedUpstreamHeaders))!.ToList();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Not the upstream's fault: no claim either way until its headers can be opened.
            Log.HeadersUnreadable(logger, link.Id, e.GetType().Name);
            return null;
        }
        var (status, failure) = await SendAsync(target, headers, cancellationToken);
        var up = failure is null;
        return new LinkHealth
        {
            LinkId = link.Id,
            OrganisationId = link.OrganisationId,
            Up = up,
            CheckedAt = checkedAt,
            Status = status,
            Failure = failure,
            ConsecutiveFailures = up ? 0 : (last?.ConsecutiveFailures ?? 0) + 1,
            LastUpAt = up ? checkedAt : last?.LastUpAt,
        };
    }

    private async Task<(int? Status, string? Failure)> SendAsync(Uri target, List<KeyValuePair<string, string>> headers, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Get, target) { Version = System.Net.HttpVersion.Version11 };
        foreach (var (name, value) in headers)
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }
        message.Headers.TryAddWithoutValidation("User-Agent", "x402-serverless-health-probe");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(_settings.TimeoutSeconds));
        try
        {
            // The handler returns at the response headers; disposing the response drops the body unread.
            using var response = await upstreamClient.SendAsync(message, timeout.Token);
            var status = (int)response.StatusCode;
            return (status, status >= 500 ? HealthFailures.Status : null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, HealthFailures.Timeout);
        }
        catch (HttpRequestException e) when (e.InnerException is UpstreamAddressRefusedException)
        {
            return (null, HealthFailures.AddressRefused);
        }
        catch (Exception e) when (e is HttpRequestException or InvalidOperationException or NotSupportedException)
        {
            // No usable connection; one link's odd failure must not stop the pass for the others.
            return (null, HealthFailures.Unreachable);
        }
    }

    /// <summary>The URL probed: the health path below the upstream (checked again here to stay below it), or the upstream itself.</summary>
    internal static Uri? Target(PaidLink link)
    {
        if (!Uri.TryCreate(link.Upstream, UriKind.Absolute, out var upstream))
        {
            return null;
        }
        if (link.Listing.HealthPath is not { Length: > 0 } path)
        {
            return upstream;
        }
        if (ListingRules.HealthPathError(path) is not null)
        {
            return null;
        }
        var parts = path.Split('?', 2);
        var query = parts.Length == 2 ? new QueryString("?" + parts[1]) : default;
        var target = UpstreamForwarder.TargetFor(upstream, parts[0].TrimStart('/'), query);
        var basePath = upstream.AbsolutePath.TrimEnd('/');
        return target.Host == upstream.Host && target.Port == upstream.Port
            && (target.AbsolutePath == basePath || target.AbsolutePath.StartsWith(basePath + "/", StringComparison.Ordinal))
            ? target
            : null;
    }

    private static partial class Log
    {
        [LoggerMessage(130, LogLevel.Information, "Health probes: {Probed} links probed, {Down} down.")]
        public static partial void Pass(ILogger logger, int probed, int down);

        [LoggerMessage(131, LogLevel.Warning, "Link {LinkId}: its health path does not make a URL below its upstream; not probed.")]
        public static partial void NoTarget(ILogger logger, string linkId);

        [LoggerMessage(132, LogLevel.Warning, "Link {LinkId}: its upstream headers could not be opened ({Error}); not probed.")]
        public static partial void HeadersUnreadable(ILogger logger, string linkId, string error);
    }
}
