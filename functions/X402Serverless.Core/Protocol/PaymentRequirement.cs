using System.Numerics;
using System.Text.Json;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Networks;
using X402Serverless.Core.Money;

namespace X402Serverless.Core.Protocol;

/// <summary>One way to pay a link: the "exact" scheme on one network, for one amount, to one recipient.</summary>
public sealed class PaymentRequirement
{
    public const string Scheme = "exact";

    public PaymentRequirement(EvmNetwork network, TokenAmount amount, EvmAddress payTo, int maxTimeoutSeconds, bool permit2 = false)
    {
        Permit2 = permit2;
        Network = network;
        Amount = amount;
        PayTo = payTo;
        MaxTimeoutSeconds = maxTimeoutSeconds;
        // Built once per cached link, so matching a v2 payment's "accepted" costs no serialisation.
        using var doc = JsonDocument.Parse(RequirementJson.V2(this).ToJsonString());
        V2Element = doc.RootElement.Clone();
    }

    public EvmNetwork Network { get; }

    public TokenAmount Amount { get; }

    public EvmAddress PayTo { get; }

    public int MaxTimeoutSeconds { get; }

    /// <summary>Paid through Permit2 (<c>extra.assetTransferMethod: "permit2"</c>) instead of an EIP-3009 authorization.</summary>
    public bool Permit2 { get; }

    /// <summary>The v2 accepts[] entry as JSON.</summary>
    public JsonElement V2Element { get; }
}
