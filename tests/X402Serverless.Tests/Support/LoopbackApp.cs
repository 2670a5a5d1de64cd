using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace X402Serverless.Tests.Support;

/// <summary>A small Kestrel app on a free loopback port, for the stand-ins a test needs (upstreams, proxies, fakes).</summary>
internal static class LoopbackApp
{
    /// <param name="port">A fixed port (a stand-in started where a client was already pointed while nothing listened); null: any free one.</param>
    /// <param name="services">Services the app needs beside the slim builder's.</param>
    public static async Task<(WebApplication App, string Url)> StartAsync(Action<WebApplication> map, int? port = null, Action<IServiceCollection>? services = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        services?.Invoke(builder.Services);
        builder.WebHost.UseUrls($"http://127.0.0.1:{port ?? 0}");
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        return (app, app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }
}
