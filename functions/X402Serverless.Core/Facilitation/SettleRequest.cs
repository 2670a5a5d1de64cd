using System.Text.Json;
using System.Text.Json.Nodes;

namespace X402Serverless.Core.Facilitation;

/// <summary>
/// The standard facilitator request body: the payer's payload verbatim and our requirement. <see cref="OnSubmitted"/>
/// lets a settlement job record a transaction hash the moment it is broadcast (built-in facilitator only).
/// </summary>
public sealed record SettleRequest(int X402Version, JsonElement PaymentPayload, JsonObject PaymentRequirements)
{
    public Func<string, Task>? OnSubmitted { get; init; }
}
