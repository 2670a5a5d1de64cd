using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace X402Serverless.Tests.Support;

/// <summary>Stands between a gateway and anvil; when Down, every connection is dropped like a dead node's.</summary>
internal sealed class RpcProxy : IAsyncDisposable
{
    private readonly WebApplication _app;

    private RpcProxy(WebApplication app)
    {
        _app = app;
    }

    public string Url { get; private set; } = "";

    public volatile bool Down;

    public static async Task<RpcProxy> StartAsync(string target)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var proxy = new RpcProxy(app);
        var http = new HttpClient();
        app.MapPost("/", async (HttpContext context) =>
        {
            if (proxy.Down)
            {
                context.Abort();
                return;
            }
            using var content = new StreamContent(context.Request.Body);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            using var response = await http.PostAsync(target, content);
            context.Response.StatusCode = (int)response.StatusCode;
            context.Response.ContentType = "application/json";
            await response.Content.CopyToAsync(context.Response.Body);
        });
        await app.StartAsync();
        proxy.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return proxy;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
