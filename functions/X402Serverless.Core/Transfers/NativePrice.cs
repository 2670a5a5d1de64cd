using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using X402Serverless.Core.Money;
using X402Serverless.Core.Protocol;

namespace X402Serverless.Core.Transfers;

/// <summary>
/// The network's native coin as a way to pay by transaction hash: the price in wei is the requirement's token price at
/// the operator's fixed rate (wei per USD), rounded up, and the requirement a native transfer's proof signs is the
/// token requirement with <c>asset: "native"</c>, that amount, and no token domain.
/// </summary>
public static class NativePrice
{
    public const string Asset = "native";

    /// <summary>The price in wei: token units / 10^decimals USD × wei per USD, rounded up (the payee never gets less).</summary>
    public static BigInteger Wei(TokenAmount price, int decimals, BigInteger weiPerUsd)
    {
        var scale = BigInteger.Pow(10, decimals);
        return (price.Units * weiPerUsd + scale - 1) / scale;
    }

    /// <summary>What a native transfer's proof carries as <c>accepted</c> (and signs), for one of the link's requirements.</summary>
    public static JsonObject Accepted(PaymentRequirement requirement, BigInteger wei)
    {
        var accepted = JsonNode.Parse(requirement.V2Element.GetRawText())!.AsObject();
        accepted["asset"] = Asset;
        accepted["amount"] = wei.ToString(System.Globalization.CultureInfo.InvariantCulture);
        accepted.Remove("extra");
        return accepted;
    }

    public static JsonElement AcceptedElement(PaymentRequirement requirement, BigInteger wei) =>
        JsonSerializer.SerializeToElement(Accepted(requirement, wei));
}
