using System.Text.Json;
using System.Text.Json.Nodes;
using X402Serverless.Core.Facilitation;

namespace X402Serverless.Core.Settlement;

/// <summary>Stores a facilitator request with its job and reads it back after a restart.</summary>
public static class SettleRequestJson
{
    public static string Write(SettleRequest request) => new JsonObject
    {
        ["x402Version"] = request.X402Version,
        ["paymentPayload"] = JsonNode.Parse(request.PaymentPayload.GetRawText()),
        ["paymentRequirements"] = request.PaymentRequirements.DeepClone(),
    }.ToJsonString();

    /// <summary>Whether the stored payment is a Permit2 one (its payload carries permit2Authorization).</summary>
    public static bool IsPermit2(string json) =>
        JsonNode.Parse(json)?["paymentPayload"]?["payload"]?["permit2Authorization"] is JsonObject;

    public static SettleRequest Read(string json)
    {
        var root = JsonNode.Parse(json)!.AsObject();
        using var payload = JsonDocument.Parse(root["paymentPayload"]!.ToJsonString());
        return new SettleRequest((int)root["x402Version"]!, payload.RootElement.Clone(), root["paymentRequirements"]!.AsObject());
    }
}
