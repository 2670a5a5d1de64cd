using System.Net.Sockets;
using Azure.Data.Tables;
using X402Serverless.AzureStorage.Tables;

namespace X402Serverless.Tests.Support;

/// <summary>Azurite's Table service (npm) on a loopback port, in memory, for the Table Storage adapters.</summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    // Azurite's well-known development account (public, emulator only).
    private const string Account = "devstoreaccount1";
    private const string Key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private PeerProcess? _azurite;

    internal TableServiceClient Tables { get; private set; } = null!;

    internal string Endpoint { get; private set; } = "";

    internal const string AccountKey = Key;

    public async Task InitializeAsync()
    {
        var port = PeerProcess.FreePort();
        _azurite = PeerProcess.Start("node", RepoPaths.Peers,
            Path.Combine("node_modules", "azurite", "dist", "src", "table", "main.js"),
            "--tableHost", "127.0.0.1", "--tablePort", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--inMemoryPersistence", "--skipApiVersionCheck", "--disableProductStyleUrl");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", port);
                break;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
        Endpoint = $"http://127.0.0.1:{port}/{Account}";
        Tables = TableStorage.Connect(new Uri(Endpoint), Account, Key, new Azure.Identity.DefaultAzureCredential());
    }

    public async Task DisposeAsync()
    {
        if (_azurite is not null)
        {
            await _azurite.DisposeAsync();
        }
    }

    /// <summary>A table name no other test uses (alphanumeric, as Table Storage requires).</summary>
    internal static string UniqueTable(string stem) => stem + Guid.NewGuid().ToString("N")[..12];
}
