using System.Globalization;
using Microsoft.Extensions.Options;
using X402Serverless.Core.Charges;
using X402Serverless.Core.Credits;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Links;
using X402Serverless.Core.Networks;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Money;
using X402Serverless.Core.Protocol;
using X402Serverless.Handler.Charges;
using X402Serverless.Handler.Hosting;
using X402Serverless.Handler.Payers;
using X402Serverless.Handler.Paywall;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Credits;

/// <summary>
/// /api/me/topup?amount=N: an x402-paid top-up. Any x402 client pays $N of USDC to the operator; once settled on chain
/// (always sync: credits appear only for money that moved), $N of credits are posted, keyed by the payment. It is the
/// paid links' x402 charge (<see cref="X402Charges"/>) captured as a <see cref="TopUpCharge"/>.
/// </summary>
internal static class UsdcTopUpEndpoint
{
    public static void MapUsdcTopUp(this RouteGroupBuilder me) =>
        me.MapMethods("/topup", ["GET", "POST"], (HttpContext http, string? amount, TopUpServices s) =>
        {
            var payer = PayerAuthFilter.Of(http);
            return HandleAsync(http, amount, s, UsdcTopUps.LinkIdFor(payer.Id), payer.OrganisationId, "Top up ${0} of credits");
        });

    /// <summary>/api/organisation/topup: the same for an organisation's allowance pool, with a management key.</summary>
    public static void MapPoolUsdcTopUp(this RouteGroupBuilder api) =>
        api.MapMethods("/organisation/topup", ["GET", "POST"], (HttpContext http, string? amount, TopUpServices s) =>
        {
            var organisation = Management.CallerContext.Of(http).Organisation;
            return HandleAsync(http, amount, s, UsdcTopUps.PoolLinkIdFor(organisation.Id), organisation.Id, "Fund ${0} of allowances");
        });

    private static async Task<IResult> HandleAsync(HttpContext http, string? amount, TopUpServices s, string linkId, string organisationId, string descriptionFormat)
    {
        var settings = s.Options.Value;
        if (!EvmAddress.TryParse(settings.Credits.TopUpPayTo, out var payTo))
        {
            return Problem.Of(StatusCodes.Status404NotFound, "usdc_topups_off", "USDC top-ups are not configured here.");
        }
        if (!Usd.TryParse(amount, out var topUp) || topUp < settings.Credits.MinimumTopUp || topUp > settings.Credits.MaximumTopUp)
        {
            return Problem.Of(StatusCodes.Status400BadRequest, "invalid_amount",
                $"amount is a USD amount between {settings.Credits.MinimumTopUp} and {settings.Credits.MaximumTopUp}, e.g. ?amount=5.00.");
        }
        var now = s.Time.GetUtcNow();
        var link = new PaidLink
        {
            Id = linkId,
            OrganisationId = organisationId,
            Name = "Top-up",
            Description = string.Format(CultureInfo.InvariantCulture, descriptionFormat, topUp),
            Upstream = "https://topup.invalid/",
            Price = topUp,
            PayTo = payTo.ToString(),
            Networks = settings.DefaultNetworks,
            Methods = [],
            CreatedAt = now,
            UpdatedAt = now,
        };
        var cached = new CachedLink(link, LinkPricing.Requirements(link, link.Price, s.Networks, settings.MaxTimeoutSeconds), [], new Uri(link.Upstream), long.MaxValue);

        var (version, header) = PaymentHeaders.Read(http.Request);
        if (version == 0)
        {
            return await PaywallAsync(http, s, cached, ReasonCodes.PaymentRequired, null);
        }
        var (check, limited) = await s.Limits.CheckPaymentAsync(http, header, version, cached.Requirements);
        if (limited is not null)
        {
            return limited;
        }
        if (check is not { Payment: { } payment, Requirement: { } requirement })
        {
            return await PaywallAsync(http, s, cached, check.Reason!, check.Message);
        }
        var facilitator = s.X402.DefaultFacilitator;
        if (!await s.X402.IsAvailableAsync(facilitator, http.RequestAborted))
        {
            return Problem.Of(StatusCodes.Status503ServiceUnavailable, ReasonCodes.FacilitatorUnavailable, "Top-ups cannot be settled right now; nothing was charged.");
        }

        // Always sync: credits appear only for money that moved.
        var record = PaymentReservation.For(payment, requirement, link.Id, organisationId, SettlementModes.Sync, facilitator,
            s.X402.SettleRequest(http.Request, link, payment, requirement), now);
        var (reserved, _) = await s.X402.ReserveAsync(record, payment, requirement, owesContent: false, http.RequestAborted);
        if (reserved is null)
        {
            return await PaywallAsync(http, s, cached, ReasonCodes.NonceAlreadyUsed, "This authorization was already used; sign a new one.");
        }
        var capture = await new TopUpCharge(reserved, s.TopUps).CaptureAsync(CancellationToken.None);
        switch (capture)
        {
            case { Kind: CaptureKind.Captured, Receipt: X402Receipt receipt }:
                ChargeResults.WriteSettlement(http, receipt);
                return TypedResults.Ok(new
                {
                    credited = topUp.ToString(),
                    balance = (await s.Ledger.BalanceAsync(UsdcTopUps.AccountFor(linkId), CancellationToken.None)).ToString(),
                    paymentId = record.Id,
                    transaction = receipt.Transaction,
                });
            case { Kind: CaptureKind.Refused }:
                return await PaywallAsync(http, s, cached, capture.Reason ?? ReasonCodes.SettlementFailed, capture.Message);
            default:
                return Problem.Of(StatusCodes.Status503ServiceUnavailable, capture.Reason ?? ReasonCodes.FacilitatorUnavailable, "The top-up could not be settled now.",
                    capture.Kind == CaptureKind.Unavailable ? "Nothing was charged." : "A settlement is pending; credits follow when it lands.");
        }
    }

    private static async Task<IResult> PaywallAsync(HttpContext http, TopUpServices s, CachedLink cached, string reason, string? message)
    {
        await s.Paywall.WriteAsync(http, cached, reason, message);
        return Results.Empty;
    }
}

/// <summary>What the top-up endpoint needs, injected as one parameter.</summary>
internal sealed record TopUpServices(
    NetworkRegistry Networks,
    X402Charges X402,
    RateLimits.RateLimitGate Limits,
    UsdcTopUps TopUps,
    ILedger Ledger,
    PaymentRequiredResponder Paywall,
    TimeProvider Time,
    IOptions<GatewayOptions> Options);
