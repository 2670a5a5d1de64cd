using System.Globalization;
using System.Numerics;
using System.Text.Json;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Json;

namespace X402Serverless.Core.Protocol;

/// <summary>
/// Decodes PAYMENT-SIGNATURE (v2) and X-PAYMENT (v1) headers: standard base64 of compact JSON. Every shape
/// problem becomes a reason code; nothing here throws on client input.
/// </summary>
public static class PaymentHeaderDecoder
{
    // Far above any real header; keeps a hostile header from costing more than a few kilobytes of work.
    private const int MaxHeaderLength = 16 * 1024;

    public static DecodeResult Decode(string? header, int expectedVersion)
    {
        if (string.IsNullOrWhiteSpace(header) || header.Length > MaxHeaderLength)
        {
            return DecodeResult.Fail(ReasonCodes.InvalidPaymentHeader, "The payment header is empty or too long.");
        }
        byte[] json;
        try
        {
            json = Convert.FromBase64String(header.Trim());
        }
        catch (FormatException)
        {
            return DecodeResult.Fail(ReasonCodes.InvalidPaymentHeader, "The payment header is not base64.");
        }
        if (!StrictJson.TryParse(json, out var root))
        {
            return DecodeResult.Fail(ReasonCodes.InvalidPaymentHeader, "The payment header is not base64 of well-formed JSON.");
        }
        // StrictJson has read every string once already: not again (that check allocates each string it reads).
        return FromReadable(root, expectedVersion);
    }

    /// <summary>Checks a payment payload already parsed (a facilitator request's paymentPayload).</summary>
    public static DecodeResult FromJson(JsonElement root, int? expectedVersion)
    {
        // The payload travels on (echoed requirement, facilitator request): no string in it may be unreadable.
        if (root.ValueKind == JsonValueKind.Object && !StrictJson.HasOnlyValidStrings(root))
        {
            return DecodeResult.Fail(ReasonCodes.InvalidPayload, "The payment payload holds a string that is not valid Unicode.");
        }
        return FromReadable(root, expectedVersion);
    }

    private static DecodeResult FromReadable(JsonElement root, int? expectedVersion)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return DecodeResult.Fail(ReasonCodes.InvalidPayload, "The payment payload must be a JSON object.");
        }
        if (!root.TryGetProperty("x402Version", out var versionEl) || versionEl.ValueKind != JsonValueKind.Number
            || !versionEl.TryGetInt32(out var version))
        {
            return DecodeResult.Fail(ReasonCodes.InvalidPayload, "x402Version is missing or not a number.");
        }
        if (version is not (1 or 2))
        {
            return DecodeResult.Fail(ReasonCodes.InvalidVersion, $"x402Version {version} is not supported.");
        }
        if (expectedVersion is { } expected && version != expected)
        {
            return DecodeResult.Fail(ReasonCodes.InvalidVersion,
                $"x402Version {version} was sent where version {expectedVersion} was expected.");
        }

        string? scheme;
        string? network;
        JsonElement? accepted = null;
        if (version == 2)
        {
            if (!root.TryGetProperty("accepted", out var acc) || acc.ValueKind != JsonValueKind.Object)
            {
                return DecodeResult.Fail(ReasonCodes.InvalidPayload, "accepted (the chosen payment requirement) is missing.");
            }
            accepted = acc;
            scheme = GetString(acc, "scheme");
            network = GetString(acc, "network");
        }
        else
        {
            scheme = GetString(root, "scheme");
            network = GetString(root, "network");
        }
        if (scheme is null || network is null)
        {
            return DecodeResult.Fail(ReasonCodes.InvalidPayload, "scheme and network are required.");
        }
        if (!root.TryGetProperty("payload", out var payload) || payload.ValueKind != JsonValueKind.Object)
        {
            return DecodeResult.Fail(ReasonCodes.InvalidPayload, "payload is missing.");
        }
        if (!Hex.TryDecode(GetString(payload, "signature"), out var signature) || signature.Length == 0)
        {
            return DecodeResult.Fail(ReasonCodes.InvalidPayload, "payload.signature must be 0x-prefixed hex.");
        }
        if (payload.TryGetProperty("permit2Authorization", out var permit) && permit.ValueKind == JsonValueKind.Object)
        {
            if (payload.TryGetProperty("authorization", out _))
            {
                return DecodeResult.Fail(ReasonCodes.InvalidPayload, "payload holds both authorization and permit2Authorization.");
            }
            var permit2 = ParsePermit2(permit, out var permitError);
            return permit2 is null
                ? DecodeResult.Fail(ReasonCodes.InvalidPayload, permitError!)
                : DecodeResult.Ok(new DecodedPayment(version, scheme, network, permit2.AsTransfer(), signature, accepted, root) { Permit2 = permit2 });
        }
        if (!payload.TryGetProperty("authorization", out var auth) || auth.ValueKind != JsonValueKind.Object)
        {
            return DecodeResult.Fail(ReasonCodes.InvalidPayload, "payload.authorization is missing.");
        }
        var authorization = ParseAuthorization(auth, out var error);
        if (authorization is null)
        {
            return DecodeResult.Fail(ReasonCodes.InvalidPayload, error!);
        }
        return DecodeResult.Ok(new DecodedPayment(version, scheme, network, authorization, signature, accepted, root));
    }

    private static TransferAuthorization? ParseAuthorization(JsonElement auth, out string? error)
    {
        error = null;
        if (!EvmAddress.TryParse(GetString(auth, "from"), out var from) || !EvmAddress.TryParse(GetString(auth, "to"), out var to))
        {
            error = "authorization.from and authorization.to must be 0x addresses.";
            return null;
        }
        if (!TryUint(auth, "value", out var value) || !TryUint(auth, "validAfter", out var validAfter) || !TryUint(auth, "validBefore", out var validBefore))
        {
            error = "authorization.value, validAfter and validBefore must be decimal strings of unsigned integers.";
            return null;
        }
        if (!Hex.TryDecode(GetString(auth, "nonce"), out var nonce) || nonce.Length != 32)
        {
            error = "authorization.nonce must be 32 bytes of 0x hex.";
            return null;
        }
        return new TransferAuthorization(from, to, value, validAfter, validBefore, nonce);
    }

    private static Permit2Authorization? ParsePermit2(JsonElement p, out string? error)
    {
        error = "permit2Authorization needs from, spender, permitted {token, amount}, nonce, deadline and witness {to, validAfter}: 0x addresses and decimal strings.";
        if (!p.TryGetProperty("permitted", out var permitted) || permitted.ValueKind != JsonValueKind.Object
            || !p.TryGetProperty("witness", out var witness) || witness.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        if (!EvmAddress.TryParse(GetString(p, "from"), out var from) || !EvmAddress.TryParse(GetString(p, "spender"), out var spender)
            || !EvmAddress.TryParse(GetString(permitted, "token"), out var token) || !EvmAddress.TryParse(GetString(witness, "to"), out var to))
        {
            return null;
        }
        if (!TryUint(permitted, "amount", out var amount) || !TryUint(p, "nonce", out var nonce) || !TryUint(p, "deadline", out var deadline)
            || !TryUint(witness, "validAfter", out var validAfter))
        {
            return null;
        }
        if (deadline >= (BigInteger.One << 256) - 1)
        {
            // Its EIP-3009 view's validBefore (deadline + 1) must stay a uint256.
            error = "permit2Authorization.deadline is out of range.";
            return null;
        }
        error = null;
        return new Permit2Authorization(from, token, amount, spender, nonce, deadline, to, validAfter);
    }

    private static bool TryUint(JsonElement obj, string name, out BigInteger value)
    {
        value = default;
        var text = GetString(obj, name);
        // uint256 has at most 78 decimal digits; numbers (not strings) are refused, as the spec requires strings.
        return text is { Length: > 0 and <= 78 } && text.All(char.IsAsciiDigit)
            && BigInteger.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value)
            && value < BigInteger.One << 256;
    }

    private static string? GetString(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var el) && el.ValueKind == JsonValueKind.String ? el.GetString() : null;
}
