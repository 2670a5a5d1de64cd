using Microsoft.Extensions.Options;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Kyc;
using X402Serverless.Handler.Hosting;

namespace X402Serverless.Handler.Kyc;

/// <summary>Holds the attestation key, read once; null members when attestations are not configured.</summary>
internal sealed class KycAttestor
{
    private readonly byte[]? _key;

    public KycAttestor(IOptions<GatewayOptions> options)
    {
        var settings = options.Value.Kyc;
        Lifetime = TimeSpan.FromHours(Math.Clamp(settings.AttestationHours, 1, 24 * 90));
        if (SecretValue.Resolved(settings.AttestationKey) is { } text)
        {
            if (!Hex.TryDecode(text, out var key) || key.Length != 32)
            {
                throw new InvalidOperationException("X402:Kyc:AttestationKey must be a 0x-prefixed 32-byte hex key.");
            }
            _key = key;
            Signer = Secp256k1.AddressOf(key);
        }
    }

    public EvmAddress? Signer { get; }

    public TimeSpan Lifetime { get; }

    public string? Sign(KycAttestation attestation) => _key is null ? null : attestation.Sign(_key);

    /// <summary>What a verifier needs: the signer and the EIP-712 domain and types, in the shape typed-data libraries take.</summary>
    public static object TypedDataShape() => new
    {
        domain = new { name = KycAttestation.DomainName, version = KycAttestation.DomainVersion },
        primaryType = KycAttestation.PrimaryType,
        types = new Dictionary<string, object[]>
        {
            [KycAttestation.PrimaryType] =
            [
                new { name = "wallet", type = "address" },
                new { name = "level", type = "string" },
                new { name = "country", type = "string" },
                new { name = "issuedAt", type = "uint64" },
                new { name = "expiresAt", type = "uint64" },
            ],
        },
    };
}
