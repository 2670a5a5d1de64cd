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
    private const string PoolDescription = "Organisation allowance pool";

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
            return CreateAsync(http, stripe, options, PoolDescription, new Dictionary<string, string> { ["organisation_id"] = organisation.Id }, organisation.Id);
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
        var idempotencyKey = http.Request.Headers["Idempotency-Key"].ToString() is { Length: > 0 and <= 200 } supplied
            ? $"{reference}:{supplied}"
            : $"{reference}:{Guid.NewGuid():N}";
        var started = await StartAsync(stripe, options.Value, request.Amount, description, metadata, reference, idempotencyKey, http.RequestAborted);
        if (started.Problem is { } problem)
        {
            return Problem.Of(problem.Status, problem.Code, problem.Title, problem.Detail);
        }
        var (id, url, amount, cents) = started.Session!;
        return TypedResults.Created(url, new { sessionId = id, url, amount = amount.ToString(), currency = "usd", cents = cents.ToString(CultureInfo.InvariantCulture) });
    }

    /// <summary>The organisation's pool top-up as the console starts it: the same checks and Checkout Session as the API.</summary>
    public static Task<CardTopUpStart> StartPoolAsync(StripeCheckoutClient stripe, CreditsOptions credits, string organisationId, UsdInput? amount,
        CancellationToken cancellationToken) =>
        StartAsync(stripe, credits, amount, PoolDescription, new Dictionary<string, string> { ["organisation_id"] = organisationId },
            organisationId, $"{organisationId}:{Guid.NewGuid():N}", cancellationToken);

    private static async Task<CardTopUpStart> StartAsync(StripeCheckoutClient stripe, CreditsOptions credits, UsdInput? requested, string description,
        Dictionary<string, string> metadata, string reference, string idempotencyKey, CancellationToken cancellationToken)
    {
        if (requested is not { IsValid: true, Value: var amount } || amount.WholeCents is not { } cents
            || amount < credits.MinimumTopUp || amount > credits.MaximumTopUp)
        {
            return new(null, new(StatusCodes.Status400BadRequest, "invalid_amount",
                $"amount is a USD amount in whole cents between {credits.MinimumTopUp} and {credits.MaximumTopUp}.", null));
        }
        var (id, url, error) = await stripe.CreateAsync(cents, description, metadata, reference, idempotencyKey, cancellationToken);
        return error is not null
            ? new(null, new(StatusCodes.Status502BadGateway, "stripe_unavailable", "The card payment could not be started.", error))
            : new(new(id!, url!, amount, cents), null);
    }
}

/// <summary>A started Checkout Session (its id, the page to pay on, the amount), or why none was started.</summary>
internal sealed record CardTopUpStart(CardTopUpSession? Session, CardTopUpRefusal? Problem);

internal sealed record CardTopUpSession(string Id, string Url, Usd Amount, long Cents);

internal sealed record CardTopUpRefusal(int Status, string Code, string Title, string? Detail);
