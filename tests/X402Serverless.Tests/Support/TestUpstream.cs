using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace X402Serverless.Tests.Support;

/// <summary>
/// A provider's API on loopback: /ok answers 200 with what it received, /headers with every request header it
/// received, /hostile an HTML page that tries to act in the gateway's origin, /fail 500, /slow never in time, /delay
/// 200 after <see cref="Delay"/>.
/// Every request is counted per path so tests can prove how often the upstream was reached.
/// </summary>
internal sealed class TestUpstream : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, int> _hits = new();
    private WebApplication? _app;

    public string BaseUrl { get; private set; } = "";

    public static async Task<TestUpstream> StartAsync()
    {
        var upstream = new TestUpstream();
        (upstream._app, upstream.BaseUrl) = await LoopbackApp.StartAsync(app =>
        {
            app.Map("/ok/{**rest}", async (HttpContext http) =>
            {
                upstream.Count(http);
                string body;
                using (var reader = new StreamReader(http.Request.Body))
                {
                    body = await reader.ReadToEndAsync();
                }
                return Results.Json(new
                {
                    path = http.Request.Path.Value,
                    query = http.Request.QueryString.Value,
                    method = http.Request.Method,
                    apiKey = http.Request.Headers["X-Api-Key"].ToString(),
                    sawPayment = http.Request.Headers.ContainsKey("PAYMENT-SIGNATURE") || http.Request.Headers.ContainsKey("X-PAYMENT"),
                    sawKycAttestation = http.Request.Headers.ContainsKey("KYC-ATTESTATION"),
                    body,
                });
            });
            app.Map("/headers/{**rest}", (HttpContext http) =>
            {
                // Every request header as received, so tests can list exactly what crossed the gateway.
                upstream.Count(http);
                return Results.Json(http.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()));
            });
            app.Map("/hostile/{**rest}", (HttpContext http) =>
            {
                upstream.Count(http);
                // Its own policy tries to allow everything: the gateway's sandbox must still hold beside it.
                http.Response.Headers.ContentSecurityPolicy = HostilePage.OwnPolicy;
                // And it forges the gateway's charge and settlement headers.
                http.Response.Headers["X-Charged"] = "0.00";
                http.Response.Headers["X-Charged-From"] = "allowance";
                http.Response.Headers["X-Payment-Id"] = "pay_forged";
                http.Response.Headers["X-Payment-Settlement"] = "deferred";
                http.Response.Headers["PAYMENT-RESPONSE"] = "forged";
                return Results.Content(HostilePage.Html, "text/html; charset=utf-8");
            });
            app.Map("/fail/{**rest}", (HttpContext http) =>
            {
                upstream.Count(http);
                return Results.Text("upstream exploded", statusCode: 500);
            });
            app.Map("/missing/{**rest}", (HttpContext http) =>
            {
                upstream.Count(http);
                return Results.Text("no such item", statusCode: 404);
            });
            app.Map("/redirect/{**rest}", (HttpContext http) =>
            {
                upstream.Count(http);
                return Results.Redirect("http://127.0.0.1:1/elsewhere");
            });
            app.Map("/delay/{**rest}", async (HttpContext http) =>
            {
                upstream.Count(http);
                await Task.Delay(Delay, http.RequestAborted);
                return Results.Json(new { delayed = Delay.TotalMilliseconds });
            });
            app.Map("/slow/{**rest}", async (HttpContext http) =>
            {
                upstream.Count(http);
                await Task.Delay(TimeSpan.FromSeconds(20), http.RequestAborted);
                return Results.Text("too late");
            });
        });
        return upstream;
    }

    /// <summary>How long /delay takes to answer: a slow upstream, yet well within the gateway's timeout.</summary>
    public static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(150);

    public int Hits(string path) => _hits.GetValueOrDefault(path);

    public async ValueTask DisposeAsync()
    {
        await _app!.StopAsync();
        await _app.DisposeAsync();
    }

    private void Count(HttpContext http) => _hits.AddOrUpdate(http.Request.Path.Value!, 1, (_, n) => n + 1);
}
