using System.Diagnostics;
using System.Net;
using System.Reflection.PortableExecutable;
using System.Text.Json;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Deployment;

/// <summary>
/// The deployable folder (`dotnet publish functions/X402Serverless.Handler -c Release -o publish`): what the
/// Functions host needs beside host.json, and that the handler starts the way the host starts it.
/// </summary>
public sealed class PublishLayoutTests : IAsyncLifetime
{
    private readonly string _output = Path.Combine(Path.GetTempPath(), "x402-publish-" + Guid.NewGuid().ToString("N"));

    public async Task InitializeAsync()
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = RepoPaths.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in new[] { "publish", "functions/X402Serverless.Handler", "-c", "Release", "-o", _output, "--nologo" })
        {
            info.ArgumentList.Add(a);
        }
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"publish failed: {await output}\n{await errors}");
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_output, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public void The_folder_holds_host_json_an_executable_self_contained_handler_and_every_function()
    {
        var host = JsonDocument.Parse(File.ReadAllText(Path.Combine(_output, "host.json"))).RootElement;
        var customHandler = host.GetProperty("customHandler");
        var executable = customHandler.GetProperty("description").GetProperty("defaultExecutablePath").GetString()!;
        Assert.True(customHandler.GetProperty("enableForwardingHttpRequest").GetBoolean());
        Assert.True(customHandler.GetProperty("enableProxyingHttpRequest").GetBoolean());
        Assert.Equal("", host.GetProperty("extensions").GetProperty("http").GetProperty("routePrefix").GetString());
        Assert.Equal("[4.*, 5.0.0)", host.GetProperty("extensionBundle").GetProperty("version").GetString());

        var handler = Path.Combine(_output, executable);
        Assert.True(File.Exists(handler), "the executable named in host.json is missing");
        if (!OperatingSystem.IsWindows())
        {
            Assert.True((File.GetUnixFileMode(handler) & UnixFileMode.UserExecute) != 0, "the handler lost its execute bit");
        }
        Assert.True(File.Exists(Path.Combine(_output, "libcoreclr.so")), "the handler is not self-contained for linux-x64");

        var functions = Directory.GetDirectories(_output).Where(d => File.Exists(Path.Combine(d, "function.json"))).Select(Path.GetFileName).Order().ToList();
        Assert.Equal(["AllowanceReset", "Catalogue", "Console", "Discovery", "Facilitator", "Home", "InboxDelivery", "KycCallback", "KycEventWorker", "Maintenance", "ManagementApi", "Mcp", "OpenApi", "PaidLink", "PassCard", "Passes", "Paywall", "Reference", "SettlementJob", "StripeEventWorker", "StripeWebhook", "WellKnown"], functions);
        foreach (var function in functions)
        {
            var bindings = JsonDocument.Parse(File.ReadAllText(Path.Combine(_output, function!, "function.json"))).RootElement.GetProperty("bindings");
            Assert.True(bindings.GetArrayLength() >= 1);
            foreach (var binding in bindings.EnumerateArray())
            {
                Assert.False(string.IsNullOrEmpty(binding.GetProperty("name").GetString()));
                if (binding.GetProperty("type").GetString() == "httpTrigger")
                {
                    Assert.Equal("anonymous", binding.GetProperty("authLevel").GetString());
                    Assert.False(binding.GetProperty("route").GetString()!.StartsWith("admin", StringComparison.Ordinal));
                }
            }
        }
        Assert.False(File.Exists(Path.Combine(_output, "local.settings.json")));
        Assert.False(Directory.Exists(Path.Combine(_output, ".x402")));
        Assert.Empty(Directory.GetFiles(_output, "appsettings.Development.json"));
    }

    [Fact]
    public void The_handler_and_its_libraries_are_precompiled_for_a_short_cold_start()
    {
        foreach (var assembly in new[] { "handler.dll", "X402Serverless.Core.dll", "X402Serverless.Sqlite.dll", "X402Serverless.AzureStorage.dll" })
        {
            using var pe = new PEReader(File.OpenRead(Path.Combine(_output, assembly)));
            // A ReadyToRun image carries its native code's header in the CLI header; an IL-only one has none.
            Assert.True(pe.PEHeaders.CorHeader!.ManagedNativeHeaderDirectory.Size > 0, $"{assembly} is not ReadyToRun");
        }
    }

    [Fact]
    public async Task The_handler_starts_as_the_functions_host_starts_it_and_serves_the_invocation_routes()
    {
        var port = PeerProcess.FreePort();
        var data = Path.Combine(_output, "..", Path.GetFileName(_output) + "-data");
        await using var handler = PeerProcess.Start(Path.Combine(_output, "handler"), _output, new Dictionary<string, string>
        {
            ["FUNCTIONS_CUSTOMHANDLER_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["X402__DataDirectory"] = data,
            ["X402_ADMIN_KEY"] = GatewayHost.AdminKey,
        });
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        HttpResponseMessage? ready = null;
        for (var i = 0; i < 200 && ready is null; i++)
        {
            try
            {
                ready = await http.GetAsync("/");
            }
            catch (HttpRequestException)
            {
                await Task.Delay(50); // the host polls every 25 ms until the handler answers
            }
        }
        Assert.NotNull(ready);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        foreach (var function in new[] { "SettlementJob", "StripeEventWorker", "KycEventWorker", "AllowanceReset", "Maintenance", "InboxDelivery" })
        {
            using var response = await http.PostAsync($"/{function}", new StringContent("""{"Data":{},"Metadata":{}}""", System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        ready.Dispose();
        Directory.Delete(data, recursive: true);
    }
}
