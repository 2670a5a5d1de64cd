using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;

namespace X402Serverless.Tests.Support;

/// <summary>
/// Builds payment headers the way an x402 client does, with knobs to break one thing at a time
/// (amount, recipient, time window, signer, network) for the failure-path tests.
/// </summary>
internal sealed record PaymentBuilder
{
    public required JsonObject Requirement { get; init; }

    public required byte[] PayerKey { get; init; }

    public BigInteger? Value { get; init; }

    public string? To { get; init; }

    public long ValidAfter { get; init; } = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 600;

    public long ValidBefore { get; init; } = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 300;

    public byte[]? SigningKey { get; init; }

    /// <summary>authorization.from when it is not the payer key's own address (a contract wallet the key signs for).</summary>
    public EvmAddress? From { get; init; }

    /// <summary>Bytes appended to the 65-byte signature (a contract wallet's wrapped signature).</summary>
    public byte[] SignatureSuffix { get; init; } = [];

    /// <summary>Turns the finished signature into what is sent (an EIP-6492 wrapper around it).</summary>
    public Func<byte[], byte[]>? WrapSignature { get; init; }

    public byte[] Nonce { get; init; } = RandomNumberGenerator.GetBytes(32);

    public string? Network { get; init; }

    /// <summary>The payload's <c>extensions</c> (e.g. a payment identifier), or none.</summary>
    public JsonObject? Extensions { get; init; }

    /// <summary>Extensions carrying x402's <c>payment-identifier</c> with <paramref name="id"/>.</summary>
    public static JsonObject IdentifiedBy(string id) => new()
    {
        ["payment-identifier"] = new JsonObject { ["info"] = new JsonObject { ["required"] = false, ["id"] = id } },
    };

    /// <summary>The first v2 requirement of a 402 response.</summary>
    public static JsonObject RequirementFrom(HttpResponseMessage response)
    {
        var header = response.Headers.GetValues("PAYMENT-REQUIRED").Single();
        var required = JsonNode.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(header)))!.AsObject();
        return required["accepts"]![0]!.AsObject();
    }

    public EvmAddress Payer => Secp256k1.AddressOf(PayerKey);

    public string V2Header()
    {
        var accepted = JsonNode.Parse(Requirement.ToJsonString())!.AsObject();
        if (Network is not null)
        {
            accepted["network"] = Network;
        }
        var payload = new JsonObject
        {
            ["x402Version"] = 2,
            ["accepted"] = accepted,
            ["payload"] = Payload(),
        };
        if (Extensions is not null)
        {
            payload["extensions"] = JsonNode.Parse(Extensions.ToJsonString());
        }
        return Encode(payload);
    }

    public string V1Header(string network)
    {
        var payload = new JsonObject
        {
            ["x402Version"] = 1,
            ["scheme"] = "exact",
            ["network"] = network,
            ["payload"] = Payload(),
        };
        return Encode(payload);
    }

    public static string Encode(JsonNode node) => Convert.ToBase64String(Encoding.UTF8.GetBytes(node.ToJsonString()));

    private JsonObject Payload()
    {
        var chainId = long.Parse(Requirement["network"]!.GetValue<string>().Split(':')[1], System.Globalization.CultureInfo.InvariantCulture);
        var extra = Requirement["extra"]!;
        var domain = new Eip712Domain(extra["name"]!.GetValue<string>(), extra["version"]!.GetValue<string>(), chainId,
            EvmAddress.Parse(Requirement["asset"]!.GetValue<string>()));
        var authorization = new TransferAuthorization(
            From ?? Payer,
            EvmAddress.Parse(To ?? Requirement["payTo"]!.GetValue<string>()),
            Value ?? BigInteger.Parse(Requirement["amount"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture),
            ValidAfter,
            ValidBefore,
            Nonce);
        byte[] signature = [.. TransferAuthorizationHasher.Sign(domain, authorization, SigningKey ?? PayerKey), .. SignatureSuffix];
        signature = WrapSignature?.Invoke(signature) ?? signature;
        return new JsonObject
        {
            ["signature"] = Hex.Encode(signature),
            ["authorization"] = new JsonObject
            {
                ["from"] = authorization.From.ToString(),
                ["to"] = authorization.To.ToString(),
                ["value"] = authorization.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["validAfter"] = authorization.ValidAfter.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["validBefore"] = authorization.ValidBefore.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["nonce"] = Hex.Encode(authorization.Nonce),
            },
        };
    }
}
