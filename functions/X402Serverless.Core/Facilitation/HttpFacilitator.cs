using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using X402Serverless.Core.Ports;

namespace X402Serverless.Core.Facilitation;

/// <summary>
/// Client for the standard x402 facilitator HTTP API (/supported, /settle) — CDP, x402.org, PayAI or self-hosted.
/// Availability is tracked from /supported probes and settle outcomes, so the paid path asks nothing over the
/// network before calling the upstream unless the facilitator was last seen down.
/// </summary>
public sealed class HttpFacilitator : IFacilitator, IDisposable
{
    private static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan HealthyFor = TimeSpan.FromSeconds(30);

    private readonly HttpClient _http;
    private readonly Uri _baseUri;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _probeGate = new(1, 1);
    private volatile bool _healthy;
    private long _lastProbeTicks;

    public HttpFacilitator(HttpClient http, Uri baseUri, TimeProvider time)
    {
        _http = http;
        _baseUri = new Uri(baseUri.ToString().TrimEnd('/') + "/");
        _time = time;
    }

    public Uri BaseUri => _baseUri;

    public async ValueTask<bool> IsAvailableAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow().UtcTicks;
        var last = Interlocked.Read(ref _lastProbeTicks);
        if (_healthy && now - last < HealthyFor.Ticks)
        {
            return true;
        }
        if (!_healthy && now - last < ProbeInterval.Ticks)
        {
            return false; // seen down a moment ago: do not hammer it
        }
        await _probeGate.WaitAsync(cancellationToken);
        try
        {
            if (Interlocked.Read(ref _lastProbeTicks) != last)
            {
                return _healthy; // someone else probed while we waited
            }
            return await ProbeAsync(cancellationToken);
        }
        finally
        {
            _probeGate.Release();
        }
    }

    /// <summary>GET /supported; records the result.</summary>
    public async Task<bool> ProbeAsync(CancellationToken cancellationToken)
    {
        bool ok;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            using var response = await _http.GetAsync(new Uri(_baseUri, "supported"), timeout.Token);
            ok = response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or OperationCanceledException)
        {
            ok = false;
        }
        _healthy = ok;
        Interlocked.Exchange(ref _lastProbeTicks, _time.GetUtcNow().UtcTicks);
        return ok;
    }

    public async Task<VerifyOutcome> VerifyAsync(SettleRequest request, CancellationToken cancellationToken)
    {
        var (root, failure) = await PostAsync("verify", request, "isValid", cancellationToken);
        return root is not { } r
            ? new VerifyOutcome(false, false, Protocol.ReasonCodes.FacilitatorUnavailable, failure)
            : new VerifyOutcome(true, r.GetProperty("isValid").GetBoolean(), Str(r, "invalidReason"), Str(r, "invalidMessage"));
    }

    public async Task<SettleOutcome> SettleAsync(SettleRequest request, CancellationToken cancellationToken)
    {
        var (root, failure) = await PostAsync("settle", request, "success", cancellationToken);
        return root is not { } r
            ? SettleOutcome.Unreachable(failure!)
            : new SettleOutcome(true, r.GetProperty("success").GetBoolean(), Str(r, "transaction"), Str(r, "network"), Str(r, "payer"),
                Str(r, "errorReason"), Str(r, "errorMessage"));
    }

    /// <summary>
    /// POSTs the standard body. A reply carrying the boolean <paramref name="verdict"/> field is an answer, whatever
    /// its status (facilitators refuse with 200 or 4xx alike); anything else means the facilitator is not usable now.
    /// </summary>
    private async Task<(JsonElement? Root, string? Failure)> PostAsync(string path, SettleRequest request, string verdict, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.PostAsJsonAsync(new Uri(_baseUri, path), Body(request), cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            MarkDown();
            return (null, $"The facilitator could not be reached: {e.Message}");
        }
        using (response)
        {
            try
            {
                var root = (await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).Clone();
                if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty(verdict, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False)
                {
                    return (root, null);
                }
            }
            catch (JsonException)
            {
                // fall through: not an x402 answer
            }
            MarkDown();
            return (null, $"The facilitator answered /{path} with {(int)response.StatusCode} and no x402 response.");
        }
    }

    private static JsonObject Body(SettleRequest request) => new()
    {
        ["x402Version"] = request.X402Version,
        ["paymentPayload"] = JsonNode.Parse(request.PaymentPayload.GetRawText()),
        ["paymentRequirements"] = request.PaymentRequirements.DeepClone(),
    };

    public void Dispose() => _probeGate.Dispose();

    private void MarkDown()
    {
        _healthy = false;
        Interlocked.Exchange(ref _lastProbeTicks, _time.GetUtcNow().UtcTicks);
    }

    private static string? Str(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var el) && el.ValueKind == JsonValueKind.String ? el.GetString() : null;
}
