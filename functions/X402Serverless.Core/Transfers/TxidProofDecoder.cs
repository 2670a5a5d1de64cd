using System.Text.Json;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Json;

namespace X402Serverless.Core.Transfers;

/// <summary>
/// Reads a PAYMENT-SIGNATURE header carrying a TXID proof. <see cref="IsTxid"/> is false for any other payload
/// (an EIP-3009 authorization goes on to the x402 path untouched); a TXID payload with a bad shape is refused
/// with <see cref="TransferReasons.InvalidPayload"/>. Nothing here throws on client input.
/// </summary>
public static class TxidProofDecoder
{
    private const int MaxHeaderLength = 16 * 1024;

    public sealed record Result(bool IsTxid, TxidProof? Proof, string? Message);

    private static readonly Result NotTxid = new(false, null, null);

    public static Result Decode(string? header)
    {
        if (string.IsNullOrWhiteSpace(header) || header.Length > MaxHeaderLength)
        {
            return NotTxid;
        }
        byte[] json;
        try
        {
            json = Convert.FromBase64String(header.Trim());
        }
        catch (FormatException)
        {
            return NotTxid;
        }
        if (!StrictJson.TryParse(json, out var root) || root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("payload", out var payload) || payload.ValueKind != JsonValueKind.Object
            || Str(payload, "type") != TxidProof.PayloadType)
        {
            return NotTxid;
        }
        return Read(root, payload);
    }

    private static Result Read(JsonElement root, JsonElement payload)
    {
        if (!root.TryGetProperty("x402Version", out var v) || v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out var version) || version != 2)
        {
            return Fail("x402Version must be 2 for a txid payment.");
        }
        if (Str(payload, "alg") != TxidProof.Algorithm || Str(payload, "format") != TxidProof.Format)
        {
            return Fail($"payload.alg must be '{TxidProof.Algorithm}' and payload.format '{TxidProof.Format}' on EVM networks.");
        }
        var txRef = Str(payload, "txRef");
        if (txRef is null || txRef.Length != 66 || !Hex.TryDecode(txRef, out var hash) || hash.Length != 32)
        {
            return Fail("payload.txRef must be a 0x-prefixed 32-byte transaction hash.");
        }
        if (!EvmAddress.TryParse(Str(payload, "from"), out var from))
        {
            return Fail("payload.from must be the sending wallet's address.");
        }
        if (!Hex.TryDecode(Str(payload, "signature"), out var signature) || signature.Length != 65)
        {
            return Fail("payload.signature must be a 0x-prefixed 65-byte signature.");
        }
        if (!root.TryGetProperty("resource", out var resource) || resource.ValueKind != JsonValueKind.Object || Str(resource, "url") is not { } url)
        {
            return Fail("resource (with its url) is required: it is part of what the wallet signs.");
        }
        if (!root.TryGetProperty("accepted", out var accepted) || accepted.ValueKind != JsonValueKind.Object)
        {
            return Fail("accepted (the chosen payment requirement) is required.");
        }
        if (Str(accepted, "scheme") is not { } scheme || scheme.Length == 0 || Str(accepted, "network") is not { } network
            || Str(accepted, "amount") is not { } amount || Str(accepted, "asset") is not { } asset
            || !EvmAddress.TryParse(Str(accepted, "payTo"), out var payTo)
            || !accepted.TryGetProperty("maxTimeoutSeconds", out var timeout) || timeout.ValueKind != JsonValueKind.Number
            || !timeout.TryGetInt64(out var maxTimeout) || maxTimeout < 0)
        {
            return Fail("accepted must carry scheme, network, amount, asset, payTo and maxTimeoutSeconds.");
        }
        return new(true, new TxidProof(txRef, from, signature, url,
            Str(resource, "description") ?? "", Str(resource, "mimeType") ?? "", accepted.Clone(),
            scheme, network, amount, asset, payTo, maxTimeout), null);
    }

    private static Result Fail(string message) => new(true, null, message);

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
}
