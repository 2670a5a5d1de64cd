using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using X402Serverless.Handler.Hosting;

namespace X402Serverless.Tests.Support;

/// <summary>The real gateway on a loopback port with its own SQLite store, configured per test class.</summary>
internal sealed class GatewayHost : IAsyncDisposable
{
    public const string AdminKey = "x402sk_test_admin_key_0123456789abcdef";

    private readonly WebApplication _app;
    private readonly string _dataDirectory;

    private GatewayHost(WebApplication app, string dataDirectory, string baseUrl)
    {
        _app = app;
        _dataDirectory = dataDirectory;
        BaseUrl = baseUrl;
        Admin = Client(AdminKey);
    }

    public string BaseUrl { get; }

    public HttpClient Admin { get; }

    public IServiceProvider Services => _app.Services;

    public LogCapture Logs { get; private set; } = new();

    /// <summary>
    /// These settings as under the Azure Functions host (FUNCTIONS_CUSTOMHANDLER_PORT set; port 0 here, any free one),
    /// where the host-only invocation routes (/SettlementJob, /Maintenance, ...) answer loopback callers like this test.
    /// </summary>
    public static Dictionary<string, string?> UnderFunctionsHost(IDictionary<string, string?> settings) =>
        new(settings) { ["FUNCTIONS_CUSTOMHANDLER_PORT"] = "0" };

    /// <param name="configure">Runs on the builder before the gateway registers itself (e.g. a TimeProvider of the test's).</param>
    public static async Task<GatewayHost> StartAsync(IDictionary<string, string?> settings, Action<WebApplicationBuilder>? configure = null)
    {
        var logs = new LogCapture();
        var dataDirectory = Path.Combine(Path.GetTempPath(), "x402-test-" + Guid.NewGuid().ToString("N"));
        var all = new Dictionary<string, string?>
        {
            ["X402:DataDirectory"] = dataDirectory,
            ["X402:AllowedUpstreamRanges:0"] = "127.0.0.0/8",
            ["X402_ADMIN_KEY"] = AdminKey,
            ["urls"] = "http://127.0.0.1:0",
        };
        foreach (var (k, v) in settings)
        {
            all[k] = v;
        }
        var app = GatewayApp.Build([], builder =>
        {
            builder.Configuration.AddInMemoryCollection(all);
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            builder.Logging.AddProvider(logs);
            configure?.Invoke(builder);
        });
        await GatewayApp.StartAsync(app);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new GatewayHost(app, dataDirectory, address) { Logs = logs };
    }

    public HttpClient Client(string? key = null)
    {
        var client = new HttpClient { BaseAddress = new Uri(BaseUrl) };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        return client;
    }

    /// <summary>Creates a link as the admin organisation and returns (id, paid url).</summary>
    public async Task<(string Id, string Url)> CreateLinkAsync(object body, HttpClient? as_ = null)
    {
        using var response = await (as_ ?? Admin).PostAsJsonAsync("/api/links", body);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Creating a link failed: {(int)response.StatusCode} {json}");
        }
        return (json.GetProperty("id").GetString()!, json.GetProperty("url").GetString()!);
    }

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // SQLite may still hold the file for a moment; the temp folder is cleaned by the OS.
        }
    }
}
