using System.Text.Json;
using System.Text.Json.Nodes;

namespace X402Serverless.Core.Facilitation;

/// <summary>The standard facilitator request body: the payer's payload verbatim and our requirement.</summary>
public sealed record SettleRequest(int X402Version, JsonElement PaymentPayload, JsonObject PaymentRequirements);
