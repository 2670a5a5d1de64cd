using X402Serverless.Core.Networks;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Money;

namespace X402Serverless.Handler.ProviderConsole;

/// <summary>Payment amounts in dollars and transactions on their network's explorer, for the payments table.</summary>
internal sealed class ConsoleFigures(NetworkRegistry networks)
{
    public string Dollars(PaymentRecord payment) => DollarText.Of(payment.Amount, Decimals(payment.Network));

    /// <summary>The transaction's page on its network's block explorer, when one is configured.</summary>
    public string? ExplorerUrl(PaymentRecord payment) =>
        payment.Transaction is { } tx && networks.TryGet(payment.Network, out var n) && n.ExplorerUrl is { } explorer
            ? $"{explorer.TrimEnd('/')}/tx/{Uri.EscapeDataString(tx)}"
            : null;

    // A network removed from configuration keeps its history readable with USDC's six decimals.
    private int Decimals(string network) => networks.TryGet(network, out var n) ? n.Decimals : 6;
}
