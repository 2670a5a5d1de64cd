using Microsoft.Extensions.Options;
using X402Serverless.Core.Charges;
using X402Serverless.Core.Credits;
using X402Serverless.Core.Kyc;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Protocol;
using X402Serverless.Handler.Charges;
using X402Serverless.Handler.Hosting;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Paywall;

/// <summary>
/// An x402 payment for a link: checked, admitted by the link's KYC rule, verified, then its nonce reserved: all
/// before the upstream is called, so every refusal charges nothing. The same payment retried after its content was
/// withheld while settling redeems that content instead.
/// </summary>
internal sealed class X402Authorizer(
    X402Charges x402,
    RateLimits.RateLimitGate limits,
    IPaymentStore payments,
    IKycStore kyc,
    Kyc.KycAttestor attestations,
    PaymentRequiredResponder paywall,
    TimeProvider time,
    IOptions<GatewayOptions> options,
    ILogger<PaidLinkEndpoint> logger)
{
    public async Task<ChargeAuthorization> AuthorizeAsync(HttpContext http, CachedLink cached, int version, string header)
    {
        var cancellationToken = http.RequestAborted;
        var link = cached.Link;
        if (!link.Accepts402)
        {
            return Paywall(cached, CreditCharges.NotAccepted, "This link is paid from credits or an allowance: send 'Authorization: Bearer <payer key>'.");
        }
        var (check, limited) = await limits.CheckPaymentAsync(http, header, version, cached.Requirements);
        if (limited is not null)
        {
            return ChargeAuthorization.Refused(limited);
        }
        if (check is not { Payment: { } payment, Requirement: { } requirement })
        {
            return Paywall(cached, check.Reason!, check.Message);
        }
        if (link.KycLevel != KycLevels.None
            && !ChargeResults.Verified(await kyc.FindByWalletAsync(payment.Authorization.From.ToString(), cancellationToken), link)
            && !attestations.Vouches(http.Request, payment.Authorization.From, link, time.GetUtcNow()))
        {
            // Refused before the nonce is reserved or the upstream called: nothing is charged.
            return ChargeAuthorization.Refused(ChargeResults.KycRequired(link));
        }
        var facilitator = x402.FacilitatorFor(link);
        if (!await x402.IsAvailableAsync(facilitator, cancellationToken))
        {
            PaidLinkLog.FacilitatorDown(logger, link.Id);
            return ChargeAuthorization.Refused(Problem.Of(StatusCodes.Status503ServiceUnavailable, ReasonCodes.FacilitatorUnavailable,
                "Payments cannot be settled right now.", "The facilitator is unreachable; nothing was charged and the upstream was not called. Retry later."));
        }
        var settleRequest = x402.SettleRequest(http.Request, link, payment, requirement);
        if (options.Value.VerifyWithFacilitator || link.VerifyOnChain)
        {
            var remote = await x402.VerifyAsync(facilitator, settleRequest, cancellationToken);
            if (!remote.Reached)
            {
                return ChargeAuthorization.Refused(Problem.Of(StatusCodes.Status503ServiceUnavailable, ReasonCodes.FacilitatorUnavailable,
                    "Payments cannot be verified right now.", "The facilitator is unreachable; nothing was charged and the upstream was not called."));
            }
            if (!remote.IsValid)
            {
                return Paywall(cached, remote.InvalidReason ?? ReasonCodes.InvalidPayload, remote.InvalidMessage);
            }
        }

        var mode = await x402.ModeForAsync(link, payment.Authorization, cancellationToken);
        var record = PaymentReservation.For(payment, requirement, link.Id, link.OrganisationId, mode, facilitator, settleRequest, time.GetUtcNow());
        if (await x402.Permit2RefusalAsync(payment, requirement, record.Id, cancellationToken) is { } ruledOut)
        {
            return Paywall(cached, ruledOut.Reason, ruledOut.Message); // before the reservation and the upstream: nothing charged
        }
        var (charge, existing) = await x402.ReserveAsync(record, payment, requirement, owesContent: true, cancellationToken);
        if (charge is not null)
        {
            return ChargeAuthorization.Of(charge);
        }
        // Owed content of this link's call; a pass purchase's payment never redeems a call.
        if (existing is { ContentOwed: true, Purpose: PaymentPurposes.Content } && existing.LinkId == link.Id)
        {
            return await RedeemAsync(http, cached, existing, payment, requirement);
        }
        return existing?.Status == PaymentStatus.Reserved
            ? Paywall(cached, ReasonCodes.PaymentInFlight, "This authorization is being used by another request; sign a new one.")
            : Paywall(cached, ReasonCodes.NonceAlreadyUsed, "This authorization was already used; sign a new one.");
    }

    /// <summary>
    /// The same payment again, after its content was withheld while it settled: delivered once when it has settled
    /// (the upstream is called then), still pending otherwise.
    /// </summary>
    private async Task<ChargeAuthorization> RedeemAsync(HttpContext http, CachedLink cached, PaymentRecord owed, DecodedPayment payment, PaymentRequirement requirement)
    {
        if (owed.Status is PaymentStatus.Pending or PaymentStatus.Settling)
        {
            return ChargeAuthorization.Refused(ChargeResults.SettlementPending(http, "The payment is still settling.",
                "Retry with the same payment shortly; the content is delivered once it has settled."));
        }
        var network = X402Charges.NetworkName(payment.Version, requirement);
        return await RedeemCharge.ClaimAsync(payments, owed, payment.Version, network, http.RequestAborted) is { } redeem
            ? ChargeAuthorization.Of(redeem)
            : Paywall(cached, ReasonCodes.NonceAlreadyUsed, "This authorization was already used; sign a new one.");
    }

    private ChargeAuthorization Paywall(CachedLink cached, string reason, string? message) =>
        ChargeAuthorization.Refused(ChargeResults.Paywall(paywall, cached, reason, message));
}
