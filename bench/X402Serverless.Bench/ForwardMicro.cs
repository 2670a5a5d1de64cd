using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.Options;
using X402Serverless.Core.Upstream;
using X402Serverless.Handler.Forwarding;
using X402Serverless.Handler.Hosting;

namespace X402Serverless.Bench;

/// <summary>
/// The forwarding hop alone (`-- micro N http://upstream/path`): the gateway's UpstreamForwarder sends a paid call's
/// request (typical browser and payer-key headers) to an upstream in another process and copies its answer, one call
/// after another. Bytes are everything the process allocated per call (GC.GetTotalAllocatedBytes), so the upstream
/// must not run in this process; µs is the process's CPU time per call.
/// </summary>
internal static class ForwardMicro
{
    public static async Task RunAsync(int iterations, string upstreamUrl)
    {
        var options = Options.Create(new GatewayOptions { AllowedUpstreamRanges = ["127.0.0.0/8"] });
        using var client = UpstreamClientFactory.Create(new UpstreamAddressPolicy(["127.0.0.0/8"]));
        var forwarder = new UpstreamForwarder(client, new ResponseIsolation(options), options);
        var upstream = new Uri(upstreamUrl);
        KeyValuePair<string, string>[] injected = [new("X-Api-Key", "provider-secret")];

        // One request context, reused (its answer's headers cleared), so the bytes are the forwarder's and HttpClient's.
        var http = new DefaultHttpContext();
        http.Request.Method = "GET";
        http.Request.Scheme = "http";
        http.Request.Host = new HostString("127.0.0.1:7071");
        http.Request.Path = "/l/lnk_bench";
        http.Request.Headers.UserAgent = "Mozilla/5.0 (X11; Linux x86_64) bench";
        http.Request.Headers.Accept = "application/json";
        http.Request.Headers.AcceptEncoding = "gzip, deflate, br";
        http.Request.Headers.AcceptLanguage = "en-GB,en;q=0.9";
        http.Request.Headers.Authorization = "Bearer x402pk_0123456789abcdef0123456789abcdef";
        http.Connection.RemoteIpAddress = IPAddress.Loopback;
        http.Response.Body = Stream.Null;

        async Task OneAsync()
        {
            http.Response.Headers.Clear();
            using var outcome = await forwarder.SendAsync(http, upstream, null, injected);
            if (outcome.Response is not { } response)
            {
                throw new InvalidOperationException($"the upstream did not answer: {outcome.Failure} {outcome.Detail}");
            }
            await forwarder.CopyResponseAsync(http, response, CancellationToken.None);
        }

        for (var i = 0; i < Math.Max(iterations, 2000); i++)
        {
            await OneAsync(); // warm-up: the connection, then tier-1 code
        }
        const int batches = 5;
        var bytes = new double[batches];
        var cpu = new double[batches];
        var wall = new double[batches];
        using var process = Process.GetCurrentProcess();
        for (var b = 0; b < batches; b++)
        {
            var before = GC.GetTotalAllocatedBytes(precise: true);
            process.Refresh();
            var cpuBefore = process.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < iterations; i++)
            {
                await OneAsync();
            }
            wall[b] = clock.Elapsed.TotalMicroseconds / iterations;
            process.Refresh();
            cpu[b] = (process.TotalProcessorTime - cpuBefore).TotalMicroseconds / iterations;
            bytes[b] = (double)(GC.GetTotalAllocatedBytes(precise: true) - before) / iterations;
        }
        Array.Sort(bytes);
        Array.Sort(cpu);
        Array.Sort(wall);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| forwarding hop (UpstreamForwarder: request out, answer copied; process CPU) | {cpu[batches / 2]:0.0} | {wall[batches / 2]:0.0} | {bytes[batches / 2]:0} |"));
    }
}
