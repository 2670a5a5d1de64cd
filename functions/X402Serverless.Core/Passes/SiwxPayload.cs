using System.Text;
using System.Text.Json;
using X402Serverless.Core.Json;

namespace X402Serverless.Core.Passes;

/// <summary>
/// The proof a wallet sends in x402's sign-in-with-x header (SIGN-IN-WITH-X: base64 of this JSON): the CAIP-122
/// fields of the message it signed and the signature. For EVM chains the message is EIP-4361 text rebuilt from
/// these fields (<see cref="SiwxMessageText"/>), signed with EIP-191 personal_sign.
/// </summary>
public sealed record SiwxPayload
{
    public const string HeaderName = "SIGN-IN-WITH-X";

    /// <summary>The extension's key in a 402's extensions.</summary>
    public const string ExtensionKey = "sign-in-with-x";

    /// <summary>Longest header taken: a real proof is well under 2 KB.</summary>
    public const int MaxHeaderLength = 8192;

    public required string Domain { get; init; }
    public required string Address { get; init; }
    public string? Statement { get; init; }
    public required string Uri { get; init; }
    public required string Version { get; init; }
    public required string ChainId { get; init; }
    public required string Type { get; init; }
    public required string Nonce { get; init; }
    public required string IssuedAt { get; init; }
    public string? ExpirationTime { get; init; }
    public string? NotBefore { get; init; }
    public string? RequestId { get; init; }
    public IReadOnlyList<string>? Resources { get; init; }
    public string? SignatureScheme { get; init; }
    public required string Signature { get; init; }

    /// <summary>The payload of a header value, or null when it is not base64 of a JSON object with the required string fields.</summary>
    public static SiwxPayload? Parse(string header)
    {
        if (header.Length is 0 or > MaxHeaderLength)
        {
            return null;
        }
        var bytes = new byte[header.Length];
        if (!Convert.TryFromBase64String(header, bytes, out var length) || !StrictJson.TryParse(bytes.AsMemory(0, length), out var root)
            || root.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        string? Text(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        bool Absent(string name) => !root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null;
        // An optional field sent as anything but a string is not silently read as absent.
        foreach (var optional in (string[])["statement", "expirationTime", "notBefore", "requestId", "signatureScheme"])
        {
            if (!Absent(optional) && Text(optional) is null)
            {
                return null;
            }
        }
        List<string>? resources = null;
        if (!Absent("resources"))
        {
            if (root.GetProperty("resources") is not { ValueKind: JsonValueKind.Array } array || array.GetArrayLength() > 16
                || array.EnumerateArray().Any(r => r.ValueKind != JsonValueKind.String))
            {
                return null;
            }
            resources = array.EnumerateArray().Select(r => r.GetString()!).ToList();
        }
        if (Text("domain") is not { } domain || Text("address") is not { } address || Text("uri") is not { } uri || Text("version") is not { } version
            || Text("chainId") is not { } chainId || Text("type") is not { } type || Text("nonce") is not { } nonce || Text("issuedAt") is not { } issuedAt
            || Text("signature") is not { } signature)
        {
            return null;
        }
        return new SiwxPayload
        {
            Domain = domain, Address = address, Statement = Text("statement"), Uri = uri, Version = version, ChainId = chainId, Type = type,
            Nonce = nonce, IssuedAt = issuedAt, ExpirationTime = Text("expirationTime"), NotBefore = Text("notBefore"), RequestId = Text("requestId"),
            Resources = resources, SignatureScheme = Text("signatureScheme"), Signature = signature,
        };
    }

    /// <summary>Base64 of the JSON (tests and tools build proofs with it; wallets use the official client).</summary>
    public string Encode() => Convert.ToBase64String(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(this, JsonSerializerOptions.Web)));
}

/// <summary>
/// The EIP-4361 text an EVM wallet signs for a sign-in-with-x proof, laid out as the EIP (and the x402 clients)
/// lay it out: no statement leaves its line empty; optional fields appear only when set.
/// </summary>
public static class SiwxMessageText
{
    /// <summary>The message, or null when a field would break the layout (a line break inside a field).</summary>
    public static string? For(SiwxPayload p, long chainId)
    {
        string?[] fields = [p.Domain, p.Address, p.Statement, p.Uri, p.Version, p.Nonce, p.IssuedAt, p.ExpirationTime, p.NotBefore, p.RequestId];
        if (fields.Any(f => f is not null && f.AsSpan().IndexOfAny('\n', '\r') >= 0) || p.Resources?.Any(r => r.AsSpan().IndexOfAny('\n', '\r') >= 0) == true)
        {
            return null;
        }
        var text = new StringBuilder();
        text.Append(p.Domain).Append(Signup.SiweParser.Preamble).Append('\n').Append(p.Address).Append("\n\n");
        if (p.Statement is not null)
        {
            text.Append(p.Statement).Append('\n');
        }
        text.Append("\nURI: ").Append(p.Uri)
            .Append("\nVersion: ").Append(p.Version)
            .Append("\nChain ID: ").Append(chainId.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Append("\nNonce: ").Append(p.Nonce)
            .Append("\nIssued At: ").Append(p.IssuedAt);
        if (p.ExpirationTime is not null)
        {
            text.Append("\nExpiration Time: ").Append(p.ExpirationTime);
        }
        if (p.NotBefore is not null)
        {
            text.Append("\nNot Before: ").Append(p.NotBefore);
        }
        if (p.RequestId is not null)
        {
            text.Append("\nRequest ID: ").Append(p.RequestId);
        }
        if (p.Resources is not null)
        {
            text.Append("\nResources:");
            foreach (var resource in p.Resources)
            {
                text.Append("\n- ").Append(resource);
            }
        }
        return text.ToString();
    }
}
