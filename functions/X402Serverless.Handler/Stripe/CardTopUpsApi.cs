using System.Globalization;
using Microsoft.Extensions.Options;
using X402Serverless.Core.Money;
using X402Serverless.Handler.Hosting;
using X402Serverless.Handler.Management;
using X402Serverless.Handler.Payers;
using X402Serverless.Handler.Problems;
using X402Serverless.Handler.Requests;

namespace X402Serverless.Handler.Stripe;

/// <summary>
/// Card top-ups through Stripe Checkout: a payer's credits (POST /api/me/topups/card) or an organisation's pool
/// (POST /api/organisation/topups/card). The money arrives with the checkout.session.completed webhook.
/// </summary>
internal static class CardTopUpsApi
{
    public static void MapPayerCardTopUps(this RouteGroupBuilder me) =>
        me.MapPost("/topups/card", (HttpContext http, StripeCheckoutClient stripe, IOptions<CreditsOptions> options) =>
        {
            var payer = PayerAuthFilter.Of(http);
            return CreateAsync(http, stripe, options, "Credits", new Dictionary<string, string> { ["payer_id"] = payer.Id }, payer.Id);
        });

    public static void MapOrganisationCardTopUps(this RouteGroupBuilder api) =>
        api.MapPost("/organisation/topups/card", (HttpContext http, StripeCheckoutClient stripe, IOptions<CreditsOptions> options) =>
        {
            var organisation = CallerContext.Of(http).Organisation;
            return CreateAsync(http, stripe, options, "Organisation allowance pool", new Dictionary<string, string> { ["organisation_id"] = organisation.Id }, organisation.Id);
        });

    private static async Task<IResult> CreateAsync(HttpContext http, StripeCheckoutClient stripe, IOptions<CreditsOptions> options,
        string description, Dictionary<string, string> metadata, string reference)
    {
        if (!stripe.Configured)
        {
            return Problem.Of(StatusCodes.Status404NotFound, "stripe_not_configured", "Card payments are not configured here.");
        }
        var (request, errors) = await JsonContract.ReadAsync(http.Request, ApiJson.Default.TopUpRequest, http.RequestAborted);
        if (request is null)
        {
            return Problem.Invalid("Send {\"amount\": \"20.00\"}.", errors);
        }
        var credits = options.Value;
        if (request.Amount is not { IsValid: true, Value: var amount } || amount.WholeCents is not { } cents
            || amount < credits.MinimumTopUp || amount > credits.MaximumTopUp)
        {
            return Problem.Of(StatusCodes.Status400BadRequest, "invalid_amount",
                $"amount is a USD amount in whole cents between {credits.MinimumTopUp} and {credits.MaximumTopUp}.");
        }
        var idempotencyKey = http.Request.Headers["Idempotency-Key"].ToString() is { Length: > 0 and <= 200 } supplied
            ? $"{reference}:{supplied}"
            : $"{reference}:{Guid.NewGuid():N}";
        var (id, url, error) = await stripe.CreateAsync(cents, description, metadata, reference, idempotencyKey, http.RequestAborted);
        if (error is not null)
        {
            return Problem.Of(StatusCodes.Status502BadGateway, "stripe_unavailable", "The card payment could not be started.", error);
        }
        return TypedResults.Created(url, new { sessionId = id, url, amount = amount.ToString(), currency = "usd", cents = cents.ToString(CultureInfo.InvariantCulture) });
    }
}
