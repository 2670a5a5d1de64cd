using System.Globalization;
using System.Numerics;
using System.Text.Json.Nodes;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Networks;
using X402Serverless.Core.Protocol;
using X402Serverless.Core.Money;

namespace X402Serverless.Core.Facilitation;

/// <summary>
/// Reads a standard facilitator request (payload + requirements) into our own types, accepting only tokens this
/// deployment is configured for: the built-in facilitator never settles an asset it does not know.
/// </summary>
public static class FacilitatorRequestReader
{
    public static (DecodedPayment? Payment, PaymentRequirement? Requirement, string? Reason, string? Message) Read(
        SettleRequest request, NetworkRegistry networks, int maxTimeoutSeconds)
    {
        var decoded = PaymentHeaderDecoder.FromJson(request.PaymentPayload, null);
        if (decoded.Payment is not { } payment)
        {
            return (null, null, decoded.Reason, decoded.Message);
        }
        var r = request.PaymentRequirements;
        var scheme = Text(r["scheme"]);
        var networkName = Text(r["network"]);
        var amountText = payment.Version == 1 ? Text(r["maxAmountRequired"]) : Text(r["amount"]);
        var asset = Text(r["asset"]);
        var payTo = Text(r["payTo"]);
        if (scheme != PaymentRequirement.Scheme || payment.Scheme != PaymentRequirement.Scheme)
        {
            return (payment, null, ReasonCodes.UnsupportedScheme, "Only the exact scheme is settled here.");
        }
        var found = payment.Version == 1
            ? networks.TryGetByV1Name(networkName ?? "", out var network)
            : networks.TryGet(networkName ?? "", out network);
        if (!found || network is null || !string.Equals(payment.Network, networkName, StringComparison.OrdinalIgnoreCase))
        {
            return (payment, null, ReasonCodes.InvalidNetwork, $"Network '{networkName}' is not settled here or differs from the payment's.");
        }
        if (!EvmAddress.TryParse(asset, out var assetAddress) || assetAddress != network.Asset)
        {
            return (payment, null, ReasonCodes.NoMatchingRequirements, $"Asset {asset} is not the configured token on {network.Id}.");
        }
        var extra = r["extra"] as JsonObject;
        if (Text(extra?["name"]) != network.Domain.Name || Text(extra?["version"]) != network.Domain.Version)
        {
            return (payment, null, "invalid_exact_evm_missing_eip712_domain", "extra.name/version must be the token's EIP-712 domain.");
        }
        if (!EvmAddress.TryParse(payTo, out var payToAddress)
            || !BigInteger.TryParse(amountText, NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
        {
            return (payment, null, ReasonCodes.InvalidPayload, "paymentRequirements needs payTo and an integer amount.");
        }
        if (amount.IsZero)
        {
            // A 0-value settlement moves nothing and only burns the settler's gas.
            return (payment, null, ReasonCodes.Value, "paymentRequirements.amount must be above 0.");
        }
        if (r["maxTimeoutSeconds"] is not JsonValue t || !t.TryGetValue<int>(out var seconds) || seconds <= 0)
        {
            return (payment, null, ReasonCodes.InvalidPayload, "paymentRequirements.maxTimeoutSeconds must be a positive integer.");
        }
        var timeout = Math.Min(seconds, maxTimeoutSeconds);
        var method = Text(extra?["assetTransferMethod"]);
        if (method is not (null or "eip3009" or Permit2Contracts.TransferMethod))
        {
            return (payment, null, ReasonCodes.TransferMethodMismatch, $"extra.assetTransferMethod '{method}' is not settled here.");
        }
        var permit2 = method == Permit2Contracts.TransferMethod;
        return (payment, new PaymentRequirement(network, new TokenAmount(amount), payToAddress, timeout, permit2), null, null);
    }

    // A field of another JSON kind reads as absent: a cast would throw, and client input must not make a 500.
    private static string? Text(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
}
