using System.Text.Json;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Kyc;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Payers;
using X402Serverless.Handler.Problems;
using X402Serverless.Handler.Requests;

namespace X402Serverless.Handler.Kyc;

/// <summary>
/// KYC once, shown anywhere: a verified payer gets a signed attestation for one of its verified wallets
/// (POST /api/me/kyc/attestations), and any x402 service checks it against /.well-known/x402-kyc.
/// </summary>
internal static class KycAttestationEndpoints
{
    public static void MapKycPublicKey(this IEndpointRouteBuilder app) => app.MapGet("/.well-known/x402-kyc", (KycAttestor attestor) =>
        attestor.Signer is { } signer
            ? TypedResults.Ok(new { signer = signer.ToString(), typedData = KycAttestor.TypedDataShape(), levels = KycLevels.All })
            : NotConfigured());

    private static IResult NotConfigured() =>
        Problem.Of(StatusCodes.Status404NotFound, "kyc_attestations_not_configured", "This gateway does not issue KYC attestations.");

    public static void MapKycAttestations(this RouteGroupBuilder me) => me.MapPost("/kyc/attestations", IssueAsync);

    private static async Task<IResult> IssueAsync(HttpContext http, IKycStore kyc, KycAttestor attestor, TimeProvider time)
    {
        if (attestor.Signer is not { } signer)
        {
            return NotConfigured();
        }
        // A body that is not JSON is reported below as a missing wallet.
        var walletText = await JsonBody.ReadObjectAsync(http.Request, http.RequestAborted) is { } body
            && body.TryGetProperty("wallet", out var w) && w.ValueKind == JsonValueKind.String ? w.GetString() : null;
        if (!EvmAddress.TryParse(walletText, out var wallet))
        {
            return Problem.Of(StatusCodes.Status400BadRequest, "invalid_wallet", "Send {\"wallet\":\"0x…\"}: one of the wallets your verification lists.");
        }
        var record = await kyc.GetAsync(PayerAuthFilter.Of(http).Id, http.RequestAborted);
        if (record is not { Status: KycStatuses.Verified })
        {
            return Problem.Of(StatusCodes.Status409Conflict, "kyc_not_verified", "There is no current verification to attest; verify first (POST /api/me/kyc).");
        }
        if (!record.Wallets.Contains(wallet.ToLowerHex()))
        {
            return Problem.Of(StatusCodes.Status409Conflict, "wallet_not_verified", "Your verification does not list this wallet.");
        }
        var now = time.GetUtcNow();
        var attestation = new KycAttestation(wallet, record.Level, record.Country ?? "", now.ToUnixTimeSeconds(), (now + attestor.Lifetime).ToUnixTimeSeconds());
        return TypedResults.Created((string?)null, new
        {
            message = new
            {
                wallet = attestation.Wallet.ToString(), level = attestation.Level, country = attestation.Country,
                issuedAt = attestation.IssuedAt, expiresAt = attestation.ExpiresAt,
            },
            signature = attestor.Sign(attestation),
            signer = signer.ToString(),
            typedData = KycAttestor.TypedDataShape(),
        });
    }
}
