using System.Diagnostics;

namespace X402Serverless.Tests.Support;

/// <summary>The real handler executable in its own process, so a drill can SIGKILL it mid-flight and start it again.</summary>
internal sealed class HandlerProcess : IAsyncDisposable
{
    private readonly PeerProcess _process;

    private HandlerProcess(PeerProcess process, string baseUrl)
    {
        _process = process;
        BaseUrl = baseUrl;
    }

    public string BaseUrl { get; }

    public string Output => _process.Output;

    public static async Task<HandlerProcess> StartAsync(int port, IDictionary<string, string?> settings)
    {
        var env = settings.ToDictionary(kv => kv.Key.Replace(":", "__", StringComparison.Ordinal), kv => kv.Value ?? "");
        env["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        // The host says where it listens once it has bound: whatever answers the port before that line is not this
        // process (another test's server may hold a port handed out again), and a failed bind ends the process.
        env["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information";
        var process = PeerProcess.Start("dotnet", AppContext.BaseDirectory, env, Path.Combine(AppContext.BaseDirectory, "handler.dll"));
        var baseUrl = $"http://127.0.0.1:{port}";
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The handler exited before listening on {baseUrl}: {process.Output}");
            }
            if (!process.Output.Contains($"Now listening on: {baseUrl}", StringComparison.Ordinal))
            {
                await Task.Delay(50);
                continue;
            }
            try
            {
                using var response = await probe.GetAsync(baseUrl + "/");
                if (response.IsSuccessStatusCode)
                {
                    return new HandlerProcess(process, baseUrl);
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // not listening yet, or too slow to answer its first request on a loaded machine: ask again until the deadline
            }
            await Task.Delay(50);
        }
        await process.DisposeAsync();
        throw new TimeoutException($"The handler did not start: {process.Output}");
    }

    /// <summary>SIGKILL: no shutdown hooks, no flushing, exactly like a crashed instance.</summary>
    public ValueTask KillAsync() => _process.DisposeAsync();

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
