using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace X402Serverless.Tests.Support;

/// <summary>Stands between a gateway and anvil; when Down, every connection is dropped like a dead node's.</summary>
internal sealed class RpcProxy : IAsyncDisposable
{
    private readonly HttpClient _http = new();
    private WebApplication? _app;

    public string Url { get; private set; } = "";

    public volatile bool Down;

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
            using var content = new StreamContent(context.Request.Body);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            using var response = await proxy._http.PostAsync(target, content);
            context.Response.StatusCode = (int)response.StatusCode;
            context.Response.ContentType = "application/json";
            await response.Content.CopyToAsync(context.Response.Body);
        }));
        return proxy;
    }

    public async ValueTask DisposeAsync()
    {
        await _app!.StopAsync();
        await _app.DisposeAsync();
        _http.Dispose();
    }
}
