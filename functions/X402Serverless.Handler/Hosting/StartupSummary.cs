using System.Text;
using X402Serverless.Core.Networks;

namespace X402Serverless.Handler.Hosting;

/// <summary>
/// One screen at start saying what this instance will do with money: where it stores, which chains and tokens it
/// takes, who settles, which features are on. Hosts only for URLs (RPC URLs often carry an API key) and no secret.
/// </summary>
internal static partial class StartupSummary
{
    [LoggerMessage(1, LogLevel.Information, "{Summary}")]
    public static partial void Log(ILogger logger, string summary);

    public static string Describe(GatewayOptions options, NetworkRegistry networks, string? gasWalletAddress)
    {
        var text = new StringBuilder("X402Serverless starting:\n");
        text.Append("  storage: ").AppendLine(options.Storage.Kind == StorageOptions.Table
            ? $"table storage at {Host(options.Storage.TableEndpoint)}"
            : $"sqlite in {Path.GetFullPath(options.DataDirectory)}");
        foreach (var n in networks.All)
        {
            text.Append("  network ").Append(n.Id).Append(n.V1Name is null ? "" : $" ({n.V1Name})")
                .Append(": token ").Append(n.Asset).Append(" \"").Append(n.Domain.Name).Append("\" v").Append(n.Domain.Version)
                .Append(", rpc ").AppendLine(n.RpcUrl is null ? "none (a remote facilitator's settlement is trusted)" : Host(n.RpcUrl));
        }
        text.Append("  default networks: ").AppendLine(string.Join(", ", options.DefaultNetworks));
        text.Append("  settlement: ").Append(options.Settlement.DefaultFacilitator).Append(" by default; remote facilitator ")
            .Append(Host(options.FacilitatorUrl)).Append("; built-in facilitator ")
            .AppendLine(gasWalletAddress is null ? "off (no gas wallet)" : $"on, gas wallet {gasWalletAddress}");
        text.Append("  features: ")
            .Append("USDC top-ups ").Append(On(!string.IsNullOrEmpty(options.Credits.TopUpPayTo)))
            .Append(", card top-ups ").Append(On(!string.IsNullOrEmpty(options.Stripe.SecretKey) && !string.IsNullOrEmpty(options.Stripe.WebhookSecret)))
            .Append(", KYC ").Append(On(!string.IsNullOrEmpty(options.Kyc.WebhookSecret) && !string.IsNullOrEmpty(options.Kyc.StartUrl)))
            .Append(", Service Bus ").Append(On(!string.IsNullOrEmpty(options.ServiceBus.Namespace)))
            .Append(", Front Door lock ").Append(On(!string.IsNullOrEmpty(options.FrontDoorId)))
            .Append(", links origin ").AppendLine(string.IsNullOrEmpty(options.LinksOrigin) ? "shared (responses sandboxed)" : Host(options.LinksOrigin));
        return text.ToString().TrimEnd();
    }

    private static string On(bool on) => on ? "on" : "off";

    private static string Host(string? url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) ? $"{uri.Scheme}://{uri.Authority}" : "(not a URL)";
}
