using Microsoft.Extensions.Options;
using X402Serverless.Core.Access;
using X402Serverless.Core.Charges;
using X402Serverless.Core.Credits;
using X402Serverless.Core.Kyc;
using X402Serverless.Core.Links;
using X402Serverless.Core.Networks;
using X402Serverless.Core.Passes;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Protocol;
using X402Serverless.Handler.Charges;
using X402Serverless.Handler.Hosting;
using X402Serverless.Handler.Payers;
using X402Serverless.Handler.Paywall;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Passes;

/// <summary>
/// /pass/{linkId}: buying a link's pass, and its holder's passes. POST without payment answers 402 priced at the
/// pass (the link's networks and pay-to); paid with x402 (always settled before the pass exists) the pass is the
/// paying wallet's; paid with a payer key from credits or an allowance, the payer's. 201 with the pass; the same
/// x402 payment presented again answers the same pass (200). GET lists the caller's passes for the link.
/// Not under /l/{id}/: every path there is the upstream's.
/// </summary>
internal static class PassPurchaseEndpoint
{
    public static void MapPasses(this IEndpointRouteBuilder app)
    {
        app.MapPost("/pass/{linkId}", BuyAsync);
        app.MapGet("/pass/{linkId}", ListAsync);
    }

    private static async Task<IResult> BuyAsync(string linkId, HttpContext http, PassServices s, Idempotency.KeyedCalls keyed, RateLimits.RateLimitGate limits)
    {
        if (await s.Links.GetAsync(linkId, http.RequestAborted) is not { Link.Pass: { } offer } linkCached)
        {
            return Problem.NotFound("Pass offer");
        }
        if (linkCached.Link.Disabled)
        {
            return Problem.LinkDisabled();
        }
        var link = linkCached.Link;
        var cached = new CachedLink(link, link.Accepts402 ? LinkPricing.Requirements(link, offer.Price, s.Networks, s.Options.Value.MaxTimeoutSeconds) : [],
            [], linkCached.Upstream, long.MaxValue) { Price = offer.Price };
        var (version, header) = PaymentHeaders.Read(http.Request);
        if (version == 0 && PayerKeys.FromRequest(http.Request) is { } payerKey)
        {
            return await BuyWithBalanceAsync(http, s, keyed, cached, offer, payerKey);
        }
        if (version == 0 || !link.Accepts402)
        {
            return await PaywallAsync(http, s, cached, ReasonCodes.PaymentRequired, null);
        }
        return await BuyWithX402Async(http, s, limits, cached, offer, version, header);
    }

    private static async Task<IResult> BuyWithBalanceAsync(HttpContext http, PassServices s, Idempotency.KeyedCalls keyed, CachedLink cached, PassOffer offer,
        string payerKey)
    {
        var link = cached.Link;
        var payer = await s.Payers.FindByKeyHashAsync(ManagementKeys.Hash(payerKey), http.RequestAborted);
        if (payer is null)
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return Problem.Of(StatusCodes.Status401Unauthorized, "invalid_payer_key", "The payer key is not valid.");
        }
        if (link.KycLevel != KycLevels.None && !ChargeResults.Verified(await s.Kyc.GetAsync(payer.Id, http.RequestAborted), link))
        {
            return ChargeResults.KycRequired(link);
        }
        // Under an Idempotency-Key a retried purchase gets the first one's pass, charged once (see KeyedCalls).
        var (key, malformed) = Idempotency.KeyedCalls.Read(http.Request);
        if (malformed is not null)
        {
            return malformed;
        }
        Core.Idempotency.IdentifiedCall? call = null;
        if (key is not null)
        {
            var claim = await keyed.ClaimAsync(http, link.Id, payer.Id, key, "POST /pass/" + link.Id);
            if (claim.Call is null)
            {
                return claim.Answer!;
            }
            call = claim.Call;
            if (claim.Recovered)
            {
                // The request that paid died before answering: the pass its hold bought (issued now if it was not).
                var (paidFor, issued) = await s.Issuer.IssueAsync(link, offer, PassHolders.Payer(payer.Id), call.PaymentId,
                    claim.FromAllowance ? PaymentTypes.Allowance : PaymentTypes.Credits, CancellationToken.None);
                return await RecordedAsync(http, keyed, call, Issued(http, s, paidFor, created: issued));
            }
        }
        var (charge, reason) = await BalanceCharge.AuthorizeAsync(s.Credits, payer, link, offer.Price, http.RequestAborted, call?.PaymentId);
        if (charge is null)
        {
            if (call is not null)
            {
                await keyed.AbandonAsync(call);
            }
            return await PaywallAsync(http, s, cached, reason!, reason switch
            {
                CreditCharges.CapReached => "A spending cap for this payer, organisation or link is reached for the period.",
                CreditCharges.NotAccepted => "This link does not accept credits or allowances.",
                _ => "The allowance and credits do not cover this pass; top up and retry.",
            });
        }
        try
        {
            var capture = await charge.CaptureAsync(CancellationToken.None);
            if (capture.Kind != CaptureKind.Captured)
            {
                // Nothing was paid (the hold was released meanwhile; the charge gave it back): no pass.
                if (call is not null)
                {
                    await keyed.AbandonAsync(call);
                }
                return await PaywallAsync(http, s, cached, capture.Reason ?? CreditCharges.InsufficientCredits, capture.Message ?? "The pass could not be paid for; top up and retry.");
            }
            ChargeResults.WriteReceipt(http, capture.Receipt!);
        }
        finally
        {
            // Does nothing once captured; a capture that threw leaves the hold released, nothing charged. (A keyed claim
            // is kept then: the capture may have been written after all, and the ledger tells the retry past its lease.)
            await charge.ReleaseOrLogAsync(s.Logger, link.Id);
        }
        var (pass, _) = await s.Issuer.IssueAsync(link, offer, PassHolders.Payer(payer.Id), charge.Hold.Id,
            charge.Hold.FromAllowance ? PaymentTypes.Allowance : PaymentTypes.Credits, CancellationToken.None);
        return call is null ? Issued(http, s, pass, created: true) : await RecordedAsync(http, keyed, call, Issued(http, s, pass, created: true));
    }

    /// <summary>Writes the answer and records it under the purchase's Idempotency-Key, for its repeats.</summary>
    private static async Task<IResult> RecordedAsync(HttpContext http, Idempotency.KeyedCalls keyed, Core.Idempotency.IdentifiedCall call, IResult answer)
    {
        var tee = new Idempotency.AnswerTee(http.Response.Body, Core.Idempotency.RecordedAnswer.MaxBodyBytes);
        http.Response.Body = tee;
        try
        {
            await answer.ExecuteAsync(http);
        }
        finally
        {
            http.Response.Body = tee.Inner;
        }
        await keyed.CompleteAsync(call, new Core.Idempotency.RecordedAnswer(http.Response.StatusCode, Idempotency.RecordedHeaders.Write(http.Response.Headers), tee.Copy));
        await tee.ReleaseAsync(http.RequestAborted);
        return Results.Empty;
    }

    private static async Task<IResult> BuyWithX402Async(HttpContext http, PassServices s, RateLimits.RateLimitGate limits, CachedLink cached, PassOffer offer,
        int version, string header)
    {
        var link = cached.Link;
        var (check, limited) = await limits.CheckPaymentAsync(http, header, version, cached.Requirements);
        if (limited is not null)
        {
            return limited;
        }
        if (check is not { Payment: { } payment, Requirement: { } requirement })
        {
            return await PaywallAsync(http, s, cached, check.Reason!, check.Message);
        }
        var wallet = payment.Authorization.From;
        if (link.KycLevel != KycLevels.None && !ChargeResults.Verified(await s.Kyc.FindByWalletAsync(wallet.ToString(), http.RequestAborted), link))
        {
            return ChargeResults.KycRequired(link);
        }
        var facilitator = s.X402.FacilitatorFor(link);
        if (!await s.X402.IsAvailableAsync(facilitator, http.RequestAborted))
        {
            return Problem.Of(StatusCodes.Status503ServiceUnavailable, ReasonCodes.FacilitatorUnavailable, "Passes cannot be paid with x402 right now; nothing was charged.");
        }
        // Always sync: a pass exists only for money that moved. Its payment owes the pass from the start, until the pass is
        // issued: a request stopped between the settlement and the issue (a crash, the pass store failing) leaves it
        // owed, and the same payment sent again issues it.
        var record = PaymentReservation.For(payment, requirement, link.Id, link.OrganisationId, SettlementModes.Sync, facilitator,
            s.X402.SettleRequest(http.Request, link, payment, requirement), s.Time.GetUtcNow()) with { ContentOwed = true, Purpose = PaymentPurposes.Pass };
        if (await s.X402.Permit2RefusalAsync(payment, requirement, record.Id, http.RequestAborted) is { } ruledOut)
        {
            return await PaywallAsync(http, s, cached, ruledOut.Reason, ruledOut.Message);
        }
        var (charge, existing) = await s.X402.ReserveAsync(record, payment, requirement, owesContent: true, http.RequestAborted);
        if (charge is null)
        {
            // The same payment again: the pass it bought, or (settled since, or stopped before its pass) the pass it is owed.
            if (existing is not null && existing.LinkId == link.Id
                && await s.Passes.GetAsync(link.Id, PassIds.For(link.Id, existing.Id), http.RequestAborted) is { } bought
                && bought.Holder == PassHolders.Wallet(wallet))
            {
                await s.PaymentStore.TrySetContentOwedAsync(existing.Id, false, CancellationToken.None);
                return Issued(http, s, bought, created: false);
            }
            // Only a pass purchase's own payment owes a pass (a call's never does, even at the same price).
            if (existing is not { ContentOwed: true, Purpose: PaymentPurposes.Pass, Status: not (PaymentStatus.Reserved or PaymentStatus.Failed or PaymentStatus.Expired) }
                || existing.LinkId != link.Id)
            {
                return await PaywallAsync(http, s, cached, existing?.Status == PaymentStatus.Reserved ? ReasonCodes.PaymentInFlight : ReasonCodes.NonceAlreadyUsed,
                    "This authorization was already used; sign a new one.");
            }
            if (existing.Status is not PaymentStatus.Settled)
            {
                return ChargeResults.SettlementPending(http, "The payment is still settling.", "Retry with the same payment shortly; the pass is issued once it has settled.");
            }
            ChargeResults.WriteSettlement(http, new X402Receipt(version, existing, X402Charges.NetworkName(version, requirement), existing.Transaction, Deferred: false));
            return Issued(http, s, await IssueOwedAsync(s, link, offer, wallet, existing.Id), created: true);
        }
        var captured = false;
        try
        {
            var capture = await charge.CaptureAsync(CancellationToken.None);
            captured = capture.Kind == CaptureKind.Captured;
            switch (capture)
            {
                case { Kind: CaptureKind.Captured, Receipt: X402Receipt receipt }:
                    ChargeResults.WriteSettlement(http, receipt);
                    return Issued(http, s, await IssueOwedAsync(s, link, offer, wallet, receipt.Payment.Id), created: true);
                case { Kind: CaptureKind.Refused }:
                    if (capture.Receipt is X402Receipt refused)
                    {
                        ChargeResults.WriteSettlement(http, refused);
                    }
                    return await PaywallAsync(http, s, cached, capture.Reason ?? ReasonCodes.SettlementFailed, capture.Message ?? "Settlement failed; no pass was issued.");
                case { Kind: CaptureKind.Unavailable }:
                    return Problem.Of(StatusCodes.Status503ServiceUnavailable, capture.Reason ?? ReasonCodes.FacilitatorUnavailable,
                        "The payment could not be settled now; nothing was charged and no pass was issued.");
                default:
                    return ChargeResults.SettlementPending(http, "The payment is still settling; the pass is issued once it lands.",
                        "Retry with the same payment: once it has settled, the pass is issued; if it never lands, nothing is charged.");
            }
        }
        finally
        {
            if (!captured)
            {
                await charge.ReleaseOrLogAsync(s.Logger, link.Id);
            }
        }
    }

    /// <summary>
    /// Issues the pass a settled payment owes (once: its id comes from the payment's), then marks the payment no longer
    /// owed. In that order, so a stop in between leaves the payment owed and its retry finds the pass.
    /// </summary>
    private static async Task<Pass> IssueOwedAsync(PassServices s, PaidLink link, PassOffer offer, Core.Evm.EvmAddress wallet, string paymentId)
    {
        var (pass, _) = await s.Issuer.IssueAsync(link, offer, PassHolders.Wallet(wallet), paymentId, PaymentTypes.X402, CancellationToken.None);
        await s.PaymentStore.TrySetContentOwedAsync(paymentId, false, CancellationToken.None);
        return pass;
    }

    /// <summary>The caller's passes for the link: a payer by its key, a wallet by a sign-in-with-x proof for this URL.</summary>
    private static async Task<IResult> ListAsync(string linkId, HttpContext http, PassServices s)
    {
        if (await s.Links.GetAsync(linkId, http.RequestAborted) is not { } cached)
        {
            return Problem.NotFound("Link");
        }
        string holder;
        if (PayerKeys.FromRequest(http.Request) is { } payerKey)
        {
            if (await s.Payers.FindByKeyHashAsync(ManagementKeys.Hash(payerKey), http.RequestAborted) is not { } payer)
            {
                http.Response.Headers.WWWAuthenticate = "Bearer";
                return Problem.Of(StatusCodes.Status401Unauthorized, "invalid_payer_key", "The payer key is not valid.");
            }
            holder = PassHolders.Payer(payer.Id);
        }
        else if (SiwxVerifier.Present(http.Request))
        {
            var proof = await s.Siwx.VerifyAsync(http.Request, cached.Link, new Uri(s.Urls.BaseUrl(http.Request)), "/pass/" + linkId, http.RequestAborted);
            if (proof.Wallet is not { } wallet)
            {
                return Problem.Of(StatusCodes.Status401Unauthorized, proof.Code!, "The sign-in-with-x proof was refused.", proof.Message);
            }
            holder = PassHolders.Wallet(wallet);
        }
        else
        {
            return Problem.Of(StatusCodes.Status401Unauthorized, "pass_holder_required", "Say whose passes to list.",
                $"Send 'Authorization: Bearer <payer key>', or a {Core.Passes.SiwxPayload.HeaderName} proof signed by the wallet for this URL.");
        }
        var now = s.Time.GetUtcNow();
        var passes = await s.Passes.ListForHolderAsync(holder, linkId, 100, http.RequestAborted);
        return TypedResults.Ok(new Management.ItemList<PassView>(passes.Select(p => PassView.From(p, now))));
    }

    private static IResult Issued(HttpContext http, PassServices s, Pass pass, bool created)
    {
        var view = PassView.From(pass, s.Time.GetUtcNow());
        return created ? TypedResults.Created($"{s.Urls.BaseUrl(http.Request)}/pass/{pass.LinkId}", view) : TypedResults.Ok(view);
    }

    private static async Task<IResult> PaywallAsync(HttpContext http, PassServices s, CachedLink cached, string reason, string? message)
    {
        await s.Paywall.WriteAsync(http, cached, reason, message);
        return Results.Empty;
    }
}

/// <summary>What the pass endpoints need, injected as one parameter.</summary>
internal sealed record PassServices(
    LinkCache Links,
    IPassStore Passes,
    PassIssuer Issuer,
    SiwxVerifier Siwx,
    X402Charges X402,
    IPaymentStore PaymentStore,
    CreditCharges Credits,
    IPayerStore Payers,
    IKycStore Kyc,
    NetworkRegistry Networks,
    PaymentRequiredResponder Paywall,
    PublicUrls Urls,
    TimeProvider Time,
    IOptions<GatewayOptions> Options,
    ILogger<PassServices> Logger);
