using System.Globalization;
using Microsoft.Extensions.Options;
using X402Serverless.Core.Money;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Stripe;
using X402Serverless.Handler.Hosting;
using X402Serverless.Handler.Management;
using X402Serverless.Handler.Payers;
using X402Serverless.Handler.Problems;
using X402Serverless.Handler.Requests;

namespace X402Serverless.Handler.Stripe;

/// <summary>
/// Card top-ups through Stripe Checkout: a payer's credits (POST /api/me/topups/card) or an organisation's pool
/// (POST /api/organisation/topups/card, and the console's pool form). Each session is recorded (who is credited, the
/// amount, the currency) before its URL is returned; the money arrives with the signed webhook, which credits only
/// what that record says (<see cref="CardTopUpFulfilment"/>).
/// </summary>
internal static class CardTopUpsApi
{
    private const string PoolDescription = "Organisation allowance pool";

    public static void MapPayerCardTopUps(this RouteGroupBuilder me) =>
        me.MapPost("/topups/card", (HttpContext http, StripeCheckoutClient stripe, ICardTopUpStore topUps, TimeProvider time, IOptions<CreditsOptions> options) =>
        {
            var payer = PayerAuthFilter.Of(http);
            return CreateAsync(http, stripe, topUps, time, options, "Credits", CardTopUp.Payer, payer.Id);
        });

    public static void MapOrganisationCardTopUps(this RouteGroupBuilder api) =>
        api.MapPost("/organisation/topups/card", (HttpContext http, StripeCheckoutClient stripe, ICardTopUpStore topUps, TimeProvider time, IOptions<CreditsOptions> options) =>
        {
            var organisation = CallerContext.Of(http).Organisation;
            return CreateAsync(http, stripe, topUps, time, options, PoolDescription, CardTopUp.Organisation, organisation.Id);
        });

    private static async Task<IResult> CreateAsync(HttpContext http, StripeCheckoutClient stripe, ICardTopUpStore topUps, TimeProvider time,
        IOptions<CreditsOptions> options, string description, string kind, string reference)
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
        var started = await StartAsync(stripe, topUps, time, options.Value, request.Amount, description, kind, reference, idempotencyKey, http.RequestAborted);
        if (started.Problem is { } problem)
        {
            return Problem.Of(problem.Status, problem.Code, problem.Title, problem.Detail);
        }
        var (id, url, amount, cents) = started.Session!;
        return TypedResults.Created(url, new { sessionId = id, url, amount = amount.ToString(), currency = "usd", cents = cents.ToString(CultureInfo.InvariantCulture) });
    }

    /// <summary>The organisation's pool top-up as the console starts it: the same checks and Checkout Session as the API.</summary>
    public static Task<CardTopUpStart> StartPoolAsync(StripeCheckoutClient stripe, ICardTopUpStore topUps, TimeProvider time, CreditsOptions credits,
        string organisationId, UsdInput? amount, CancellationToken cancellationToken) =>
        StartAsync(stripe, topUps, time, credits, amount, PoolDescription, CardTopUp.Organisation, organisationId, $"{organisationId}:{Guid.NewGuid():N}",
            cancellationToken);

    private static async Task<CardTopUpStart> StartAsync(StripeCheckoutClient stripe, ICardTopUpStore topUps, TimeProvider time, CreditsOptions credits,
        UsdInput? requested, string description, string kind, string reference, string idempotencyKey, CancellationToken cancellationToken)
    {
        if (requested is not { IsValid: true, Value: var amount } || amount.WholeCents is not { } cents
            || amount < credits.MinimumTopUp || amount > credits.MaximumTopUp)
        {
            return new(null, new(StatusCodes.Status400BadRequest, "invalid_amount",
                $"amount is a USD amount in whole cents between {credits.MinimumTopUp} and {credits.MaximumTopUp}.", null));
        }
        // The metadata only helps a person reading Stripe's dashboard: the webhook never reads it.
        var metadata = new Dictionary<string, string> { [kind == CardTopUp.Payer ? "payer_id" : "organisation_id"] = reference };
        var (id, url, error) = await stripe.CreateAsync(cents, description, metadata, reference, idempotencyKey, cancellationToken);
        if (error is not null || !CheckoutSession.IsId(id) || url is null)
        {
            return new(null, new(StatusCodes.Status502BadGateway, "stripe_unavailable", "The card payment could not be started.", error));
        }
        // Recorded before the URL is returned, so no one can pay a top-up session the gateway has no record of. A
        // retry with the same Idempotency-Key gets the same session back from Stripe and finds it recorded already.
        await topUps.AddAsync(new CardTopUp
        {
            SessionId = id!,
            Kind = kind,
            AccountId = reference,
            Amount = amount,
            Currency = "usd",
            CreatedAt = time.GetUtcNow(),
        }, cancellationToken);
        return new(new(id!, url, amount, cents), null);
    }
}

/// <summary>A started Checkout Session (its id, the page to pay on, the amount), or why none was started.</summary>
internal sealed record CardTopUpStart(CardTopUpSession? Session, CardTopUpRefusal? Problem);

internal sealed record CardTopUpSession(string Id, string Url, Usd Amount, long Cents);

internal sealed record CardTopUpRefusal(int Status, string Code, string Title, string? Detail);
