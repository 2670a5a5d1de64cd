using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace X402Serverless.Bench;

/// <summary>
/// Kestrel with none of the gateway in it, for bench/run.sh's "Kestrel alone" rows: what this machine gives an ASP.NET Core
/// process before any gateway work. <c>/402</c> writes the gateway's own 402 (status, PAYMENT-REQUIRED header and
/// body, captured from it by the load generator) as fixed bytes; <c>/forward</c> sends each call to the upstream with
/// a bare pooled HttpMessageInvoker and copies the answer back: no link, no payment, no ledger, no header rules.
/// </summary>
internal static class KestrelAlone
{
    public static async Task RunAsync(string upstream, string challengeHeader, string challengeBodyFile)
    {
        var body = await File.ReadAllBytesAsync(challengeBodyFile);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        using var client = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        });
        var target = new Uri(upstream);
        app.MapGet("/402", async context =>
        {
            context.Response.StatusCode = StatusCodes.Status402PaymentRequired;
            context.Response.Headers["PAYMENT-REQUIRED"] = challengeHeader;
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = body.Length;
            await context.Response.Body.WriteAsync(body, context.RequestAborted);
        });
        app.MapGet("/forward", async context =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, target);
            using var response = await client.SendAsync(request, context.RequestAborted);
            context.Response.StatusCode = (int)response.StatusCode;
            context.Response.ContentType = response.Content.Headers.ContentType?.ToString();
            context.Response.ContentLength = response.Content.Headers.ContentLength;
            await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        // The load generator waits for this line.
        Console.WriteLine($"listening {address}");
        await app.WaitForShutdownAsync();
    }
}
