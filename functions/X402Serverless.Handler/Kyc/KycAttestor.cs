using Microsoft.Extensions.Options;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Kyc;
using X402Serverless.Core.Links;
using X402Serverless.Handler.Hosting;

namespace X402Serverless.Handler.Kyc;

/// <summary>
/// Holds the attestation key and the trusted signers, read once: signs this gateway's attestations and checks those
/// x402 payers present on links that ask for KYC.
/// </summary>
internal sealed class KycAttestor
{
    /// <summary>Carries base64 of {"message":{…},"signature":"0x…"}, exactly as an attestation is issued.</summary>
    public const string HeaderName = "KYC-ATTESTATION";

    private readonly byte[]? _key;
    private readonly HashSet<EvmAddress> _trusted = [];

    public KycAttestor(IOptions<KycOptions> options)
    {
        var settings = options.Value;
        Lifetime = TimeSpan.FromHours(Math.Clamp(settings.AttestationHours, 1, 24 * 90));
        if (SecretValue.Resolved(settings.AttestationKey) is { } text)
        {
            if (!Hex.TryDecode(text, out var key) || key.Length != 32)
            {
                throw new InvalidOperationException("X402:Kyc:AttestationKey must be a 0x-prefixed 32-byte hex key.");
            }
            _key = key;
            Signer = Secp256k1.AddressOf(key);
            _trusted.Add(Signer.Value);
        }
        foreach (var signer in settings.TrustedAttestationSigners)
        {
            _trusted.Add(EvmAddress.TryParse(signer, out var address)
                ? address
                : throw new InvalidOperationException($"X402:Kyc:TrustedAttestationSigners has '{signer}', which is not a 0x address."));
        }
    }

    public EvmAddress? Signer { get; }

    public TimeSpan Lifetime { get; }

    public string? Sign(KycAttestation attestation) => _key is null ? null : attestation.Sign(_key);

    /// <summary>
    /// True when the request carries an unexpired attestation, by a trusted signer, that this wallet passed KYC at
    /// the level or above. One signature recovery, and only on links that ask for KYC.
    /// </summary>
    public bool Vouches(HttpRequest request, EvmAddress wallet, PaidLink link, DateTimeOffset now)
    {
        if (_trusted.Count == 0 || request.Headers[HeaderName].ToString() is not { Length: > 0 and < 4096 } header)
        {
            return false;
        }
        byte[] json;
        try
        {
            json = Convert.FromBase64String(header);
        }
        catch (FormatException)
        {
            return false;
        }
        var seconds = now.ToUnixTimeSeconds();
        return KycAttestation.TryRead(json, out var attestation, out var signature)
            && attestation!.Wallet == wallet
            && link.AdmitsKyc(attestation.Level, attestation.Country)
            && attestation.IssuedAt <= seconds + 60 && seconds < attestation.ExpiresAt
            && attestation.SignerOf(signature!) is { } signer && _trusted.Contains(signer);
    }

    /// <summary>What a verifier needs: the signer and the EIP-712 domain and types, in the shape typed-data libraries take.</summary>
    public static object TypedDataShape() => new
    {
        domain = new { name = KycAttestation.DomainName, version = KycAttestation.DomainVersion },
        primaryType = KycAttestation.PrimaryType,
        types = new Dictionary<string, object[]>
        {
            [KycAttestation.PrimaryType] = [.. KycAttestation.Fields.Select(f => (object)new { name = f.Name, type = f.Type })],
        },
    };
}
