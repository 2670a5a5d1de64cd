using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace X402Serverless.Tests.Support;

/// <summary>
/// Stands between a gateway and anvil; when Down, every connection is dropped like a dead node's. With
/// <see cref="MaxLogRange"/> it refuses eth_getLogs over wider block ranges (or from "earliest"), as providers do.
/// </summary>
internal sealed class RpcProxy : IAsyncDisposable
{
    private readonly HttpClient _http = new();
    private WebApplication? _app;

    public string Url { get; private set; } = "";

    public volatile bool Down;

    public int? MaxLogRange { get; set; }

    /// <summary>
    /// Per request (its method and its whole JSON body): Refuse answers a JSON-RPC error as a node refusing it would,
    /// Drop cuts the connection without passing it on (lost on the way), Swallow answers success without passing it on
    /// (a node that says it took a transaction and never mines it); null or Pass forwards it.
    /// </summary>
    public Func<string, string, RpcFault>? Fault { get; set; }

    /// <summary>eth_getLogs calls the proxy refused for their range.</summary>
    public int RefusedLogQueries => _refused;

    private int _refused;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _calls = new();

    /// <summary>How many times a JSON-RPC method was asked through the proxy.</summary>
    public int Calls(string method) => _calls.GetValueOrDefault(method);

    /// <summary>Every JSON-RPC call asked through the proxy, whatever its method.</summary>
    public int TotalCalls => _calls.Values.Sum();

    public static async Task<RpcProxy> StartAsync(string target)
    {
        var proxy = new RpcProxy();
        (proxy._app, proxy.Url) = await LoopbackApp.StartAsync(app => app.MapPost("/", async (HttpContext context) =>
        {
            if (proxy.Down)
            {
                context.Abort();
                return;
            }
            using var buffered = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffered);
            var (method, requestId) = proxy.Count(buffered.ToArray());
            switch (proxy.Fault?.Invoke(method, System.Text.Encoding.UTF8.GetString(buffered.ToArray())) ?? RpcFault.Pass)
            {
                case RpcFault.Drop:
                    context.Abort();
                    return;
                case RpcFault.Refuse:
                    await context.Response.WriteAsJsonAsync(new { jsonrpc = "2.0", id = requestId, error = new { code = -32003, message = "refused by the test proxy" } });
                    return;
                case RpcFault.Swallow:
                    await context.Response.WriteAsJsonAsync(new { jsonrpc = "2.0", id = requestId, result = "0x" + new string('0', 64) });
                    return;
            }
            if (proxy.MaxLogRange is { } max && TooWide(buffered.ToArray(), max, out var id))
            {
                Interlocked.Increment(ref proxy._refused);
                await context.Response.WriteAsJsonAsync(new { jsonrpc = "2.0", id, error = new { code = -32005, message = $"query exceeds max block range {max}" } });
                return;
            }
            using var content = new ByteArrayContent(buffered.ToArray());
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            using var response = await proxy._http.PostAsync(target, content);
            context.Response.StatusCode = (int)response.StatusCode;
            context.Response.ContentType = "application/json";
            await response.Content.CopyToAsync(context.Response.Body);
        }));
        return proxy;
    }

    private (string Method, long Id) Count(byte[] body)
    {
        using var request = System.Text.Json.JsonDocument.Parse(body);
        var id = request.RootElement.TryGetProperty("id", out var i) && i.TryGetInt64(out var n) ? n : 0;
        if (request.RootElement.TryGetProperty("method", out var method) && method.GetString() is { } name)
        {
            _calls.AddOrUpdate(name, 1, (_, c) => c + 1);
            return (name, id);
        }
        return ("", id);
    }

    private static bool TooWide(byte[] body, int max, out long id)
    {
        using var request = System.Text.Json.JsonDocument.Parse(body);
        var root = request.RootElement;
        id = root.TryGetProperty("id", out var i) && i.TryGetInt64(out var n) ? n : 0;
        if (root.GetProperty("method").GetString() != "eth_getLogs")
        {
            return false;
        }
        var filter = root.GetProperty("params")[0];
        static long? Block(System.Text.Json.JsonElement f, string name) =>
            f.TryGetProperty(name, out var b) && b.GetString() is { } s && s.StartsWith("0x", StringComparison.Ordinal)
                ? Convert.ToInt64(s[2..], 16)
                : null;
        var from = Block(filter, "fromBlock");
        var to = Block(filter, "toBlock");
        return from is null || to is null || to - from + 1 > max;
    }

    public async ValueTask DisposeAsync()
    {
        await _app!.StopAsync();
        await _app.DisposeAsync();
        _http.Dispose();
    }
}

internal enum RpcFault
{
    Pass,
    Refuse,
    Drop,
    Swallow,
}
