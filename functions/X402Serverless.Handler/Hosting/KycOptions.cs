namespace X402Serverless.Handler.Hosting;

/// <summary>
/// Settings under "X402:Kyc": the identity provider payers verify with once. Its callback is signed like Stripe's
/// ("t=...,v1=..." HMAC-SHA256) with <see cref="WebhookSecret"/>; secrets are never logged.
/// </summary>
public sealed class KycOptions
{
    /// <summary>The callback's signing secret (a Key Vault reference in Azure). Empty: KYC is off here.</summary>
    public string? WebhookSecret { get; set; }

    /// <summary>
    /// The provider's hosted verification page, with "{subject}" where the payer's reference goes (the callback
    /// returns it as "subject"), e.g. https://verify.example.com/start?ref={subject}.
    /// </summary>
    public string? StartUrl { get; set; }

    public int ToleranceSeconds { get; set; } = 300;

    /// <summary>
    /// 0x secp256k1 key that signs portable KYC attestations (a Key Vault reference in Azure); its address is published
    /// at /.well-known/x402-kyc. Empty: no attestations.
    /// </summary>
    public string? AttestationKey { get; set; }

    /// <summary>
    /// Signers (0x addresses) of other gateways whose attestations links here accept from x402 payers, beside this
    /// gateway's own: a wallet verified once elsewhere need not verify again.
    /// </summary>
    public List<string> TrustedAttestationSigners { get; set; } = [];

    /// <summary>How long an attestation is valid; verifiers should also check its expiry.</summary>
    public int AttestationHours { get; set; } = 24;
}
