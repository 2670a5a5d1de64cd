using Microsoft.Extensions.Options;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Hosting;
using X402Serverless.Handler.Payers;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Kyc;

/// <summary>
/// POST /api/me/kyc: where a payer goes to verify once. The provider's page gets the payer id as its reference and
/// reports back to /hooks/kyc; every link on the gateway then honours the result.
/// </summary>
internal static class KycStartEndpoint
{
    public static void MapKycStart(this RouteGroupBuilder me) => me.MapPost("/kyc", async (HttpContext http, IKycStore kyc, IOptions<KycOptions> options) =>
    {
        var settings = options.Value;
        if (string.IsNullOrWhiteSpace(settings.StartUrl) || SecretValue.Resolved(settings.WebhookSecret) is null)
        {
            return Problem.Of(StatusCodes.Status404NotFound, "kyc_not_configured", "Identity verification is not configured here.");
        }
        var payer = PayerAuthFilter.Of(http);
        var current = await kyc.GetAsync(payer.Id, http.RequestAborted);
        var url = settings.StartUrl.Replace("{subject}", Uri.EscapeDataString(payer.Id), StringComparison.Ordinal);
        return TypedResults.Ok(new { subject = payer.Id, verificationUrl = url, current = KycView.From(current) });
    });
}
