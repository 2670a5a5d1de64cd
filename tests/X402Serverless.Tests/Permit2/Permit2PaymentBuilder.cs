using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Permit2;

/// <summary>A Permit2 "exact" payment as the official client builds it, with any field overridable to make bad ones.</summary>
internal sealed record Permit2PaymentBuilder
{
    public required JsonObject Requirement { get; init; }

    public required byte[] PayerKey { get; init; }

    public EvmAddress Spender { get; init; } = Permit2Contracts.ExactProxy;

    public EvmAddress? To { get; init; }

    public BigInteger? Amount { get; init; }

    public BigInteger Nonce { get; init; } = new(RandomNumberGenerator.GetBytes(32), isUnsigned: true);

    public long Deadline { get; init; } = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 55;

    public long ValidAfter { get; init; }

    public EvmAddress Payer => Secp256k1.AddressOf(PayerKey);

    public Permit2Authorization Authorization => new(
        Payer,
        EvmAddress.Parse(Requirement["asset"]!.GetValue<string>()),
        Amount ?? BigInteger.Parse(Requirement["amount"]!.GetValue<string>(), CultureInfo.InvariantCulture),
        Spender,
        Nonce,
        Deadline,
        To ?? EvmAddress.Parse(Requirement["payTo"]!.GetValue<string>()),
        ValidAfter);

    public string V2Header()
    {
        var a = Authorization;
        var chainId = long.Parse(Requirement["network"]!.GetValue<string>().Split(':')[1], CultureInfo.InvariantCulture);
        var signature = Permit2Contracts.Sign(chainId, a, PayerKey);
        var text = (BigInteger v) => v.ToString(CultureInfo.InvariantCulture);
        return PaymentBuilder.Encode(new JsonObject
        {
            ["x402Version"] = 2,
            ["accepted"] = JsonNode.Parse(Requirement.ToJsonString()),
            ["payload"] = new JsonObject
            {
                ["signature"] = Hex.Encode(signature),
                ["permit2Authorization"] = new JsonObject
                {
                    ["from"] = a.From.ToString(),
                    ["permitted"] = new JsonObject { ["token"] = a.Token.ToString(), ["amount"] = text(a.Amount) },
                    ["spender"] = a.Spender.ToString(),
                    ["nonce"] = text(a.Nonce),
                    ["deadline"] = text(a.Deadline),
                    ["witness"] = new JsonObject { ["to"] = a.To.ToString(), ["validAfter"] = text(a.ValidAfter) },
                },
            },
        });
    }
}
