using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Webhooks;

/// <summary>
/// A real HTTP receiver on loopback: POST (or GET, for a link's health probe) /hook/{name} records what arrived and answers the status its script gives
/// for that name's n-th request (200 when none is set).
/// </summary>
internal sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, Func<int, int>> _scripts = new();

    private WebhookReceiver(WebApplication app, string url)
    {
        _app = app;
        BaseUrl = url;
    }

    public string BaseUrl { get; }

    public ConcurrentQueue<Received> Requests { get; } = new();

    public string Url(string name) => $"{BaseUrl}/hook/{name}";

    /// <summary>Answers the n-th request (1-based) to <paramref name="name"/> with the status <paramref name="status"/> gives.</summary>
    public void Script(string name, Func<int, int> status) => _scripts[name] = status;

    public IReadOnlyList<Received> To(string name) => Requests.Where(r => r.Name == name).ToList();

    public static async Task<WebhookReceiver> StartAsync(int? port = null)
    {
        WebhookReceiver? receiver = null;
        var (app, url) = await LoopbackApp.StartAsync(app => app.MapMethods("/hook/{name}", ["GET", "POST"], async (string name, HttpRequest request) =>
        {
            using var reader = new StreamReader(request.Body);
            var body = await reader.ReadToEndAsync();
            var headers = request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            var r = receiver!;
            r.Requests.Enqueue(new Received(name, body, headers));
            var n = r.Requests.Count(x => x.Name == name);
            var status = r._scripts.TryGetValue(name, out var script) ? script(n) : 200;
            return Results.Text(status < 300 ? "thanks" : $"nope {n}", statusCode: status);
        }), port);
        receiver = new WebhookReceiver(app, url);
        return receiver;
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    internal sealed record Received(string Name, string Body, IReadOnlyDictionary<string, string> Headers)
    {
        public string Signature => Headers["X402-Signature"];

        public string EventId => Headers["X402-Event-Id"];
    }
}
