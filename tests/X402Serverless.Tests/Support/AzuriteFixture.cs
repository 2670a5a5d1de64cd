using System.Net.Sockets;
using Azure.Data.Tables;
using X402Serverless.AzureStorage.Tables;

namespace X402Serverless.Tests.Support;

/// <summary>
/// Azurite's Table service (npm) on a loopback port, in memory, for the Table Storage adapters. One Azurite serves
/// every test class using it at the same time (each test uses tables of its own): starting one node process per class
/// put dozens of them on two cores at once, and a start that outlasted its wait failed whole classes.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    // Azurite's well-known development account (public, emulator only).
    private const string Account = "devstoreaccount1";
    private const string Key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static PeerProcess? _shared;
    private static string _sharedEndpoint = "";
    private static int _users;

    internal TableServiceClient Tables { get; private set; } = null!;

    internal string Endpoint { get; private set; } = "";

    internal const string AccountKey = Key;

    public async Task InitializeAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (_shared is null || _shared.HasExited)
            {
                (_shared, _sharedEndpoint) = await StartAsync();
            }
            _users++;
            Endpoint = _sharedEndpoint;
        }
        finally
        {
            Gate.Release();
        }
        Tables = TableStorage.Connect(new Uri(Endpoint), Account, Key, new Azure.Identity.DefaultAzureCredential());
    }

    public async Task DisposeAsync()
    {
        await Gate.WaitAsync();
        try
        {
            // The last class out stops it, so no node process outlives the test run.
            if (--_users == 0 && _shared is not null)
            {
                await _shared.DisposeAsync();
                _shared = null;
            }
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>
    /// A Table service client on this Azurite whose every request passes through <paramref name="policy"/>: each retry
    /// of it too, unless <paramref name="position"/> is PerCall (once per call, whatever retries the SDK makes).
    /// </summary>
    internal TableServiceClient Client(Azure.Core.Pipeline.HttpPipelinePolicy policy, Azure.Core.HttpPipelinePosition position = Azure.Core.HttpPipelinePosition.PerRetry)
    {
        var options = new TableClientOptions();
        options.AddPolicy(policy, position);
        return new TableServiceClient(new Uri(Endpoint), new TableSharedKeyCredential(TableStorage.EmulatorAccount, Key), options);
    }

    /// <summary>A table name no other test uses (alphanumeric, as Table Storage requires).</summary>
    internal static string UniqueTable(string stem) => stem + Guid.NewGuid().ToString("N")[..12];

    // A port found free may be taken before Azurite binds it: then the process exits, and another port is tried.
    private static async Task<(PeerProcess, string)> StartAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            var port = PeerProcess.FreePort();
            var azurite = PeerProcess.Start("node", RepoPaths.Peers,
                Path.Combine("node_modules", "azurite", "dist", "src", "table", "main.js"),
                "--tableHost", "127.0.0.1", "--tablePort", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--inMemoryPersistence", "--skipApiVersionCheck", "--disableProductStyleUrl");
            if (await ListeningAsync(azurite, port, TimeSpan.FromSeconds(120)))
            {
                return (azurite, $"http://127.0.0.1:{port}/{Account}");
            }
            var output = azurite.Output;
            await azurite.DisposeAsync();
            if (attempt == 3)
            {
                throw new InvalidOperationException($"Azurite did not listen on 127.0.0.1:{port}: {output}");
            }
        }
    }

    private static async Task<bool> ListeningAsync(PeerProcess azurite, int port, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!azurite.HasExited && DateTime.UtcNow < deadline)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", port);
                return true;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }
        return false;
    }
}
