using System.Numerics;
using System.Text;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;

namespace X402Serverless.Core.Kyc;

/// <summary>
/// A portable proof that a wallet passed KYC here: EIP-712 typed data signed by the gateway's attestation key, so any
/// x402 service can check it with a standard library (e.g. viem's verifyTypedData) against the signer the gateway
/// publishes, without an account here. Domain {name, version}; no chain: the statement is about a person, not a chain.
/// </summary>
public sealed record KycAttestation(EvmAddress Wallet, string Level, string Country, long IssuedAt, long ExpiresAt)
{
    public const string DomainName = "X402Serverless KYC";

    public const string DomainVersion = "1";

    public const string PrimaryType = "KycAttestation";

    /// <summary>The struct's members in order: the one definition both the type hash and the published types come from.</summary>
    public static readonly IReadOnlyList<(string Name, string Type)> Fields =
        [("wallet", "address"), ("level", "string"), ("country", "string"), ("issuedAt", "uint64"), ("expiresAt", "uint64")];

    public static readonly string TypeString = $"{PrimaryType}({string.Join(',', Fields.Select(f => $"{f.Type} {f.Name}"))})";

    private static readonly byte[] TypeHash = Keccak256.Hash(Encoding.ASCII.GetBytes(TypeString));

    private static readonly byte[] Separator = Keccak256.Hash(
        Keccak256.Hash(Encoding.ASCII.GetBytes("EIP712Domain(string name,string version)")),
        Keccak256.Hash(Encoding.UTF8.GetBytes(DomainName)),
        Keccak256.Hash(Encoding.UTF8.GetBytes(DomainVersion)));

    /// <summary>keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(attestation)).</summary>
    public byte[] Digest() => Keccak256.Hash([0x19, 0x01], Separator, Keccak256.Hash(
        TypeHash,
        AbiWord.Address(Wallet),
        Keccak256.Hash(Encoding.UTF8.GetBytes(Level)),
        Keccak256.Hash(Encoding.UTF8.GetBytes(Country)),
        AbiWord.UInt256(new BigInteger(IssuedAt)),
        AbiWord.UInt256(new BigInteger(ExpiresAt))));

    /// <summary>The 65-byte r‖s‖v signature, 0x-hex.</summary>
    public string Sign(ReadOnlySpan<byte> attestationKey) => Hex.Encode(Secp256k1.Sign(Digest(), attestationKey));

    public bool IsSignedBy(string signature, EvmAddress signer) => SignerOf(signature) == signer;

    public EvmAddress? SignerOf(string signature) =>
        Hex.TryDecode(signature, out var bytes) && bytes.Length == 65 ? Secp256k1.Recover(Digest(), bytes) : null;

    /// <summary>Reads {"message":{wallet,level,country,issuedAt,expiresAt},"signature":"0x…"}, as issued; false when malformed.</summary>
    public static bool TryRead(ReadOnlySpan<byte> json, out KycAttestation? attestation, out string? signature)
    {
        attestation = null;
        signature = null;
        try
        {
            var reader = new System.Text.Json.Utf8JsonReader(json);
            using var doc = System.Text.Json.JsonDocument.ParseValue(ref reader);
            var root = doc.RootElement;
            if (!Json.StrictJson.HasOnlyValidStrings(root) || root.ValueKind != System.Text.Json.JsonValueKind.Object
                || !root.TryGetProperty("message", out var m) || m.ValueKind != System.Text.Json.JsonValueKind.Object
                || !root.TryGetProperty("signature", out var sig) || sig.ValueKind != System.Text.Json.JsonValueKind.String
                || !m.TryGetProperty("wallet", out var wallet) || wallet.ValueKind != System.Text.Json.JsonValueKind.String || !EvmAddress.TryParse(wallet.GetString(), out var address)
                || !m.TryGetProperty("level", out var level) || level.ValueKind != System.Text.Json.JsonValueKind.String
                || !m.TryGetProperty("country", out var country) || country.ValueKind != System.Text.Json.JsonValueKind.String
                || !m.TryGetProperty("issuedAt", out var issued) || issued.ValueKind != System.Text.Json.JsonValueKind.Number || !issued.TryGetInt64(out var issuedAt)
                || !m.TryGetProperty("expiresAt", out var expires) || expires.ValueKind != System.Text.Json.JsonValueKind.Number || !expires.TryGetInt64(out var expiresAt))
            {
                return false;
            }
            attestation = new KycAttestation(address, level.GetString()!, country.GetString()!, issuedAt, expiresAt);
            signature = sig.GetString();
            return true;
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }
}
