using X402Serverless.Core.Evm;
using X402Serverless.Core.Networks;
using X402Serverless.Core.Money;
using X402Serverless.Core.Protocol;

namespace X402Serverless.Core.Links;

/// <summary>Turns a link at one of its prices into its payment requirements, one per accepted network, deterministically.</summary>
public static class LinkPricing
{
    public static IReadOnlyList<PaymentRequirement> Requirements(PaidLink link, Usd price, NetworkRegistry networks, int maxTimeoutSeconds)
    {
        var payTo = EvmAddress.Parse(link.PayTo);
        var list = new List<PaymentRequirement>();
        foreach (var id in link.Networks)
        {
            // A network removed from configuration after the link was made, or refused at start, is skipped, not fatal.
            if (networks.TryGet(id, out var network) && network.Refusal is null && price.ToToken(network.Decimals) is { } amount)
            {
                var permit2 = link.Permit2Networks.Contains(network.Id, StringComparer.OrdinalIgnoreCase);
                list.Add(new PaymentRequirement(network, amount, payTo, maxTimeoutSeconds, permit2));
            }
        }
        return list;
    }
}
