using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using X402Serverless.Core.Credits;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Facilitation;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Links;
using X402Serverless.Core.Networks;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Money;
using X402Serverless.Core.Protocol;
using X402Serverless.Core.Settlement;
using X402Serverless.Handler.Hosting;
using X402Serverless.Handler.Payers;
using X402Serverless.Handler.Paywall;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Credits;

/// <summary>
/// /api/me/topup?amount=N: an x402-paid top-up. Any x402 client pays $N of USDC to the operator; once settled on chain
/// (always sync: credits appear only for money that moved), $N of credits are posted, keyed by the payment.
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
        var cached = new CachedLink(link, LinkPricing.Requirements(link, s.Networks, settings.MaxTimeoutSeconds), [], new Uri(link.Upstream), long.MaxValue);

        var (version, header) = PaymentHeaders.Read(http.Request);
        if (version == 0)
        {
            return await PaywallAsync(http, s, cached, ReasonCodes.PaymentRequired, null);
        }
        var check = PaymentCheck.Run(header, version, cached.Requirements, s.Verifier);
        if (check is not { Payment: { } payment, Requirement: { } requirement })
        {
            return await PaywallAsync(http, s, cached, check.Reason!, check.Message);
        }
        var facilitatorKind = s.Facilitators.DefaultKind;
        if (!await s.Facilitators.Get(facilitatorKind).IsAvailableAsync(http.RequestAborted))
        {
            return Problem.Of(StatusCodes.Status503ServiceUnavailable, ReasonCodes.FacilitatorUnavailable, "Top-ups cannot be settled right now; nothing was charged.");
        }

        var requirementJson = version == 1
            ? RequirementJson.V1(requirement, s.Urls.ResourceUrl(http.Request), link.Description!, "", http.Request.Method)!
            : RequirementJson.V2(requirement);
        var record = PaymentReservation.For(payment, requirement, link.Id, organisationId, SettlementModes.Sync, facilitatorKind,
            new SettleRequest(version, payment.Raw, requirementJson), now);
        if (!await s.Payments.TryReserveAsync(record, http.RequestAborted))
        {
            return await PaywallAsync(http, s, cached, ReasonCodes.NonceAlreadyUsed, "This authorization was already used; sign a new one.");
        }
        await s.Payments.AdvanceAsync(record.Id, PaymentStatus.Settling, now, CancellationToken.None);
        using var timeout = new CancellationTokenSource(settings.Settlement.InlineSettleTimeout);
        var result = await s.Settlement.RunAsync(record with { Status = PaymentStatus.Settling }, inline: true, timeout.Token);
        var network = version == 1 ? requirement.Network.V1Name! : requirement.Network.Id;
        if (result.Kind == SettlementOutcomeKind.Settled)
        {
            await s.TopUps.CreditAsync(record with { Status = PaymentStatus.Settled, Transaction = result.Transaction }, CancellationToken.None);
            http.Response.Headers[SettlementResponse.HeaderName(version)] =
                SettlementResponse.Encode(new SettleOutcome(true, true, result.Transaction, network, record.Payer, null, null), network, record.Payer);
            return TypedResults.Ok(new
            {
                credited = topUp.ToString(),
                balance = (await s.Ledger.BalanceAsync(UsdcTopUps.AccountFor(linkId), CancellationToken.None)).ToString(),
                paymentId = record.Id,
                transaction = result.Transaction,
            });
        }
        if (result.Kind == SettlementOutcomeKind.Failed)
        {
            return await PaywallAsync(http, s, cached, result.Reason ?? ReasonCodes.SettlementFailed, result.Message);
        }
        return Problem.Of(StatusCodes.Status503ServiceUnavailable, result.Reason ?? ReasonCodes.FacilitatorUnavailable,
            "The top-up could not be settled now.", result.Kind == SettlementOutcomeKind.Released ? "Nothing was charged." : "A settlement is pending; credits follow when it lands.");
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
    PaymentVerifier Verifier,
    FacilitatorCatalog Facilitators,
    IPaymentStore Payments,
    SettlementProcessor Settlement,
    UsdcTopUps TopUps,
    ILedger Ledger,
    PaymentRequiredResponder Paywall,
    PublicUrls Urls,
    TimeProvider Time,
    IOptions<GatewayOptions> Options);
