using System.Globalization;
using Microsoft.Extensions.Options;
using X402Serverless.Core.Facilitation;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Credits;
using X402Serverless.Core.Kyc;
using X402Serverless.Core.Links;
using X402Serverless.Core.Usage;
using X402Serverless.Core.Money;
using X402Serverless.Core.Protocol;
using X402Serverless.Handler.Payers;
using X402Serverless.Core.Settlement;
using System.Numerics;
using X402Serverless.Handler.Settlement;
using X402Serverless.Handler.Forwarding;
using X402Serverless.Handler.Hosting;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Paywall;

/// <summary>
/// The paid URL /l/{id}/{**rest}: decode → match → verify locally → reserve the nonce → forward → settle → deliver.
/// The payer pays nothing unless the upstream answered below 400 and settlement succeeded; the upstream body is
/// held back until then (the x402 default: content only after settlement).
/// </summary>
internal sealed partial class PaidLinkEndpoint(
    LinkCache links,
    PaymentRequiredResponder paywall,
    PaymentVerifier verifier,
    IPaymentStore payments,
    FacilitatorCatalog facilitators,
    SettlementProcessor settlement,
    JobQueues queues,
    UpstreamForwarder forwarder,
    PublicUrls urls,
    CreditCharges credits,
    IPayerStore payers,
    IKycStore kyc,
    Kyc.KycAttestor attestations,
    Usage.UsageRecorder usage,
    TimeProvider time,
    IOptions<GatewayOptions> options,
    ILogger<PaidLinkEndpoint> logger)
{
    private const string SettlementPendingCode = "settlement_pending";

    public static void Map(IEndpointRouteBuilder app)
    {
        app.Map("/l/{linkId}/{**rest}", (string linkId, string? rest, HttpContext http, PaidLinkEndpoint endpoint) => endpoint.HandleAsync(http, linkId, rest));
    }

    public async Task<IResult> HandleAsync(HttpContext http, string linkId, string? rest)
    {
        var cancellationToken = http.RequestAborted;
        var cached = await links.GetAsync(linkId, cancellationToken);
        if (cached is null)
        {
            return Problem.NotFound("Paid link");
        }
        var request = http.Request;
        if (HttpMethods.IsOptions(request.Method) && request.Headers.ContainsKey("Access-Control-Request-Method"))
        {
            return Preflight(http);
        }
        if (!cached.Link.AllowsMethod(request.Method))
        {
            http.Response.Headers.Allow = string.Join(", ", cached.Link.Methods);
            return Problem.Of(StatusCodes.Status405MethodNotAllowed, "method_not_allowed", $"This link does not accept {request.Method}.");
        }
        var takesBalances = cached.Link.Accepts.Any(a => a is PaymentTypes.Credits or PaymentTypes.Allowance);
        var (version, header) = PaymentHeaders.Read(request);
        if (version == 0 && PayerKeys.FromRequest(request) is { } payerKey)
        {
            return await PayFromBalanceAsync(http, cached, rest, payerKey);
        }
        if (cached.Requirements.Count == 0 && !takesBalances)
        {
            return Problem.Of(StatusCodes.Status503ServiceUnavailable, "link_unpayable", "This link has no network it can be paid on right now.");
        }

        if (version == 0)
        {
            usage.Count(cached.Link, UsageKinds.Challenged);
            return Paywall(cached, ReasonCodes.PaymentRequired, null);
        }

        if (!cached.Link.Accepts402)
        {
            return Paywall(cached, CreditCharges.NotAccepted, "This link is paid from credits or an allowance: send 'Authorization: Bearer <payer key>'.");
        }
        var check = PaymentCheck.Run(header, version, cached.Requirements, verifier);
        if (check is not { Payment: { } payment, Requirement: { } requirement })
        {
            return Paywall(cached, check.Reason!, check.Message);
        }
        if (cached.Link.KycLevel != KycLevels.None
            && !Verified(await kyc.FindByWalletAsync(payment.Authorization.From.ToString(), cancellationToken), cached.Link)
            && !attestations.Vouches(request, payment.Authorization.From, cached.Link, time.GetUtcNow()))
        {
            // Refused before the nonce is reserved or the upstream called: nothing is charged.
            return KycRequired(cached.Link);
        }
        var facilitatorKind = cached.Link.Facilitator is { } chosen && facilitators.Has(chosen) ? chosen : facilitators.DefaultKind;
        var facilitator = facilitators.Get(facilitatorKind);
        if (!await facilitator.IsAvailableAsync(cancellationToken))
        {
            Log.FacilitatorDown(logger, linkId);
            return Problem.Of(StatusCodes.Status503ServiceUnavailable, ReasonCodes.FacilitatorUnavailable,
                "Payments cannot be settled right now.", "The facilitator is unreachable; nothing was charged and the upstream was not called. Retry later.");
        }

        if (options.Value.VerifyWithFacilitator || cached.Link.VerifyOnChain)
        {
            var remote = await facilitator.VerifyAsync(FacilitatorRequest(http, cached, payment, requirement), cancellationToken);
            if (!remote.Reached)
            {
                return Problem.Of(StatusCodes.Status503ServiceUnavailable, ReasonCodes.FacilitatorUnavailable,
                    "Payments cannot be verified right now.", "The facilitator is unreachable; nothing was charged and the upstream was not called.");
            }
            if (!remote.IsValid)
            {
                return Paywall(cached, remote.InvalidReason ?? ReasonCodes.InvalidPayload, remote.InvalidMessage);
            }
        }

        var auth = payment.Authorization;
        var mode = cached.Link.Settlement;
        if (mode == SettlementModes.Deferred && !await MayDeferAsync(cached.Link, auth, cancellationToken))
        {
            mode = SettlementModes.Sync;
        }
        var now = time.GetUtcNow();
        var record = PaymentReservation.For(payment, requirement, cached.Link.Id, cached.Link.OrganisationId, mode, facilitatorKind,
            FacilitatorRequest(http, cached, payment, requirement), now);
        if (!await payments.TryReserveAsync(record, cancellationToken))
        {
            var existing = await payments.GetAsync(record.Id, cancellationToken);
            if (existing is { ContentOwed: true } && existing.LinkId == cached.Link.Id)
            {
                return await RedeemAsync(http, cached, rest, existing, payment, requirement);
            }
            return existing?.Status == PaymentStatus.Reserved
                ? Paywall(cached, ReasonCodes.PaymentInFlight, "This authorization is being used by another request; sign a new one.")
                : Paywall(cached, ReasonCodes.NonceAlreadyUsed, "This authorization was already used; sign a new one.");
        }

        return await ForwardAndSettleAsync(http, cached, rest, payment, requirement, record);
    }

    /// <summary>
    /// Content-first is credit: a wallet new to this provider (by default), one with too many unsettled or an unpaid
    /// deferred call, or an authorization about to run out waits for settlement instead.
    /// </summary>
    private async Task<bool> MayDeferAsync(PaidLink link, Core.Evm.TransferAuthorization auth, CancellationToken cancellationToken)
    {
        var settings = options.Value.Settlement;
        if (auth.ValidBefore - time.GetUtcNow().ToUnixTimeSeconds() < settings.DeferredMinimumWindowSeconds)
        {
            return false;
        }
        var history = await payments.GetPayerHistoryAsync(auth.From.ToString(), link.OrganisationId, cancellationToken);
        return history.MayDefer(link.DeferredPayers, settings.DeferredMaxInFlightPerPayer);
    }

    private async Task<IResult> ForwardAndSettleAsync(HttpContext http, CachedLink cached, string? rest, DecodedPayment payment, PaymentRequirement requirement, PaymentRecord record)
    {
        var released = false;
        async Task ReleaseAsync()
        {
            if (!released)
            {
                released = true;
                await payments.ReleaseAsync(record.Id, CancellationToken.None);
            }
        }

        try
        {
            using var outcome = await forwarder.SendAsync(http, cached.Upstream, rest, cached.UpstreamHeaders);
            if (outcome.Response is not { } upstream)
            {
                await ReleaseAsync();
                usage.Count(cached.Link, UsageKinds.NotCharged);
                Log.UpstreamFailed(logger, cached.Link.Id, outcome.Failure.ToString());
                return UpstreamProblem(outcome);
            }

            if (!ChargePolicies.Charges(cached.Link.ChargeOn, (int)upstream.StatusCode))
            {
                // The payer pays nothing for a failed call: not settled, nonce released, the upstream's answer passed back.
                await ReleaseAsync();
                usage.Count(cached.Link, UsageKinds.NotCharged);
                Log.NotCharged(logger, cached.Link.Id, (int)upstream.StatusCode);
                await forwarder.CopyResponseAsync(http, upstream, http.RequestAborted);
                return Results.Empty;
            }

            if (record.Mode == SettlementModes.Deferred)
            {
                // The job is durable before the payer sees a byte: a crash from here on still settles it.
                released = true;
                await payments.AdvanceAsync(record.Id, PaymentStatus.Pending, time.GetUtcNow(), CancellationToken.None);
                await queues.SettlementAsync(record.Id);
                usage.Count(cached.Link, UsageKinds.Paid);
                http.Response.Headers["X-Payment-Id"] = record.Id;
                http.Response.Headers["X-Payment-Settlement"] = "deferred";
                await forwarder.CopyResponseAsync(http, upstream, http.RequestAborted);
                return Results.Empty;
            }

            try
            {
                await upstream.Content.LoadIntoBufferAsync(options.Value.MaxBufferedResponseBytes, outcome.BodyCancellation);
            }
            catch (OperationCanceledException) when (!http.RequestAborted.IsCancellationRequested)
            {
                await ReleaseAsync();
                return Problem.Of(StatusCodes.Status504GatewayTimeout, "upstream_timeout", "The upstream timed out sending its body; nothing was charged.");
            }
            catch (HttpRequestException e)
            {
                await ReleaseAsync();
                return Problem.Of(StatusCodes.Status502BadGateway, "upstream_response_unusable", "The upstream response could not be read; nothing was charged.", e.Message);
            }

            // Settlement runs to completion even if the payer disconnects: the transfer may already be in flight.
            released = true;
            await payments.AdvanceAsync(record.Id, PaymentStatus.Settling, time.GetUtcNow(), CancellationToken.None);
            using var settleTimeout = new CancellationTokenSource(options.Value.Settlement.InlineSettleTimeout);
            var result = await settlement.RunAsync(record with { Status = PaymentStatus.Settling }, inline: true, settleTimeout.Token);
            var networkName = payment.Version == 1 ? requirement.Network.V1Name! : requirement.Network.Id;
            switch (result.Kind)
            {
                case SettlementOutcomeKind.Settled:
                    usage.Count(cached.Link, UsageKinds.Paid);
                    Log.Settled(logger, cached.Link.Id, record.Id, result.Transaction!);
                    WriteSettled(http, payment, requirement, record, result.Transaction!);
                    await forwarder.CopyResponseAsync(http, upstream, CancellationToken.None);
                    return Results.Empty;
                case SettlementOutcomeKind.Failed:
                    Log.SettleRefused(logger, cached.Link.Id, result.Reason ?? "");
                    http.Response.Headers[SettlementResponse.HeaderName(payment.Version)] = SettlementResponse.Encode(
                        new SettleOutcome(true, false, null, networkName, record.Payer, result.Reason, result.Message), networkName, record.Payer);
                    return Paywall(cached, result.Reason ?? ReasonCodes.SettlementFailed, result.Message ?? "Settlement failed; the content was withheld.");
                case SettlementOutcomeKind.Released:
                    Log.FacilitatorDown(logger, cached.Link.Id);
                    return Problem.Of(StatusCodes.Status503ServiceUnavailable, result.Reason ?? ReasonCodes.FacilitatorUnavailable,
                        "The payment could not be settled now; the content was withheld.",
                        "Nothing was settled by this request. Retry with the same payment: if a facilitator did settle it meanwhile, the content is delivered then; otherwise sign a new one later.");
                default:
                    // The transaction may still land: the payment now owes its content, redeemed by retrying it once settled.
                    await payments.TrySetContentOwedAsync(record.Id, true, CancellationToken.None);
                    Log.SettlementPending(logger, cached.Link.Id, record.Id);
                    http.Response.Headers.RetryAfter = "5";
                    return Problem.Of(StatusCodes.Status503ServiceUnavailable, SettlementPendingCode,
                        "The payment is still settling; the content was withheld.",
                        "A settlement transaction is pending. Retry with the same payment: once it has settled, the content is delivered; if it never lands, nothing is charged.");
            }
        }
        finally
        {
            // Any path that neither settled nor refused (an exception, a cancelled request) frees the nonce.
            await ReleaseAsync();
        }
    }

    /// <summary>
    /// The same payment again, after its content was withheld while it settled: delivered once when it has settled
    /// (the upstream is called then), still pending otherwise. A failed upstream leaves the content owed.
    /// </summary>
    private async Task<IResult> RedeemAsync(HttpContext http, CachedLink cached, string? rest, PaymentRecord owed, DecodedPayment payment, PaymentRequirement requirement)
    {
        if (owed.Status is PaymentStatus.Pending or PaymentStatus.Settling)
        {
            http.Response.Headers.RetryAfter = "5";
            return Problem.Of(StatusCodes.Status503ServiceUnavailable, SettlementPendingCode, "The payment is still settling.",
                "Retry with the same payment shortly; the content is delivered once it has settled.");
        }
        if (owed.Status != PaymentStatus.Settled || !await payments.TrySetContentOwedAsync(owed.Id, false, http.RequestAborted))
        {
            return Paywall(cached, ReasonCodes.NonceAlreadyUsed, "This authorization was already used; sign a new one.");
        }
        var delivered = false;
        try
        {
            using var outcome = await forwarder.SendAsync(http, cached.Upstream, rest, cached.UpstreamHeaders);
            if (outcome.Response is not { } upstream)
            {
                return UpstreamProblem(outcome);
            }
            if (ChargePolicies.Charges(cached.Link.ChargeOn, (int)upstream.StatusCode))
            {
                delivered = true;
                usage.Count(cached.Link, UsageKinds.Paid);
                WriteSettled(http, payment, requirement, owed, owed.Transaction!);
            }
            await forwarder.CopyResponseAsync(http, upstream, http.RequestAborted);
            return Results.Empty;
        }
        finally
        {
            if (!delivered)
            {
                await payments.TrySetContentOwedAsync(owed.Id, true, CancellationToken.None);
            }
        }
    }

    /// <summary>A call paid from the payer's allowance or credits: hold, forward, then capture or release.</summary>
    private async Task<IResult> PayFromBalanceAsync(HttpContext http, CachedLink cached, string? rest, string payerKey)
    {
        var payer = await payers.FindByKeyHashAsync(Core.Access.ManagementKeys.Hash(payerKey), http.RequestAborted);
        if (payer is null)
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return Problem.Of(StatusCodes.Status401Unauthorized, "invalid_payer_key", "The payer key is not valid.");
        }
        if (cached.Link.KycLevel != KycLevels.None && !Verified(await kyc.GetAsync(payer.Id, http.RequestAborted), cached.Link))
        {
            return KycRequired(cached.Link);
        }
        var amount = cached.Link.Price;
        var (hold, reason) = await credits.HoldAsync(payer, cached.Link, amount, http.RequestAborted);
        if (hold is null)
        {
            return Paywall(cached, reason!, reason switch
            {
                CreditCharges.CapReached => "A spending cap for this payer, organisation or link is reached for the period.",
                CreditCharges.NotAccepted => "This link does not accept credits or allowances.",
                _ => "The allowance and credits do not cover this call; top up and retry.",
            });
        }
        var settled = false;
        try
        {
            using var outcome = await forwarder.SendAsync(http, cached.Upstream, rest, cached.UpstreamHeaders);
            if (outcome.Response is not { } upstream)
            {
                settled = true;
                await credits.ReleaseAsync(hold, CancellationToken.None);
                usage.Count(cached.Link, UsageKinds.NotCharged);
                Log.UpstreamFailed(logger, cached.Link.Id, outcome.Failure.ToString());
                return UpstreamProblem(outcome);
            }
            // Settle the hold before the payer sees a byte, so the balance they read next is already right.
            if (ChargePolicies.Charges(cached.Link.ChargeOn, (int)upstream.StatusCode))
            {
                await credits.CaptureAsync(hold, cached.Link, CancellationToken.None);
                usage.Count(cached.Link, UsageKinds.Paid);
                http.Response.Headers["X-Charged"] = amount.ToString();
                http.Response.Headers["X-Charged-From"] = hold.FromAllowance ? PaymentTypes.Allowance : PaymentTypes.Credits;
            }
            else
            {
                await credits.ReleaseAsync(hold, CancellationToken.None);
                usage.Count(cached.Link, UsageKinds.NotCharged);
            }
            settled = true;
            await forwarder.CopyResponseAsync(http, upstream, http.RequestAborted);
            return Results.Empty;
        }
        finally
        {
            if (!settled)
            {
                await credits.ReleaseAsync(hold, CancellationToken.None);
            }
        }
    }

    private SettleRequest FacilitatorRequest(HttpContext http, CachedLink cached, DecodedPayment payment, PaymentRequirement requirement)
    {
        var requirementsJson = payment.Version == 1
            ? RequirementJson.V1(requirement, urls.ResourceUrl(http.Request), cached.Link.Description ?? cached.Link.Name ?? "Paid API call", "", http.Request.Method)!
            : RequirementJson.V2(requirement);
        return new SettleRequest(payment.Version, payment.Raw, requirementsJson);
    }

    /// <summary>The settlement receipt on a delivered response: PAYMENT-RESPONSE (v2) or X-PAYMENT-RESPONSE (v1), and the payment id.</summary>
    private static void WriteSettled(HttpContext http, DecodedPayment payment, PaymentRequirement requirement, PaymentRecord record, string transaction)
    {
        var networkName = payment.Version == 1 ? requirement.Network.V1Name! : requirement.Network.Id;
        http.Response.Headers[SettlementResponse.HeaderName(payment.Version)] =
            SettlementResponse.Encode(new SettleOutcome(true, true, transaction, networkName, record.Payer, null, null), networkName, record.Payer);
        http.Response.Headers["X-Payment-Id"] = record.Id;
        http.Response.Headers.AccessControlExposeHeaders = PaymentHeaders.Exposed;
    }

    private static bool Verified(KycRecord? record, PaidLink link) => record is { Status: KycStatuses.Verified } && link.AdmitsKyc(record.Level, record.Country);

    private static IResult KycRequired(PaidLink link) => Problem.Of(StatusCodes.Status403Forbidden, "kyc_required",
        "This link is paid only by verified payers; nothing was charged.",
        $"Verification level '{link.KycLevel}' or above{(link.KycCountries.Count > 0 ? " from " + string.Join(", ", link.KycCountries) : "")} is needed. Verify once (POST /api/me/kyc); x402 wallets count when the verification lists them or the request carries a trusted KYC-ATTESTATION.");

    private static IResult UpstreamProblem(UpstreamOutcome outcome) => outcome.Failure switch
    {
        UpstreamFailure.Timeout => Problem.Of(StatusCodes.Status504GatewayTimeout, "upstream_timeout", "The upstream timed out; nothing was charged.", outcome.Detail),
        UpstreamFailure.AddressRefused => Problem.Of(StatusCodes.Status502BadGateway, "upstream_address_refused", "The upstream address is not allowed; nothing was charged.", outcome.Detail),
        _ => Problem.Of(StatusCodes.Status502BadGateway, "upstream_unreachable", "The upstream could not be reached; nothing was charged.", outcome.Detail),
    };

    private PaywallResult Paywall(CachedLink cached, string reason, string? message) =>
        new PaywallResult(paywall, cached, reason, message);

    private static IResult Preflight(HttpContext http)
    {
        var headers = http.Response.Headers;
        headers.AccessControlAllowOrigin = "*";
        headers.AccessControlAllowMethods = http.Request.Headers.AccessControlRequestMethod.ToString();
        headers.AccessControlAllowHeaders = http.Request.Headers.AccessControlRequestHeaders.ToString();
        headers.AccessControlExposeHeaders = PaymentHeaders.Exposed;
        headers.AccessControlMaxAge = "600";
        return Results.NoContent();
    }

    private sealed class PaywallResult(PaymentRequiredResponder responder, CachedLink cached, string reason, string? message) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext) => responder.WriteAsync(httpContext, cached, reason, message);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Facilitator unavailable; link {LinkId} refused payment without calling the upstream or charging.")]
        public static partial void FacilitatorDown(ILogger logger, string linkId);

        [LoggerMessage(2, LogLevel.Information, "Upstream of link {LinkId} failed ({Failure}); not charged.")]
        public static partial void UpstreamFailed(ILogger logger, string linkId, string failure);

        [LoggerMessage(3, LogLevel.Information, "Upstream of link {LinkId} answered {Status}; not charged.")]
        public static partial void NotCharged(ILogger logger, string linkId, int status);

        [LoggerMessage(4, LogLevel.Warning, "Facilitator refused settlement for link {LinkId}: {Reason}.")]
        public static partial void SettleRefused(ILogger logger, string linkId, string reason);

        [LoggerMessage(5, LogLevel.Information, "Link {LinkId} payment {PaymentId} settled in {Transaction}.")]
        public static partial void Settled(ILogger logger, string linkId, string paymentId, string transaction);

        [LoggerMessage(6, LogLevel.Warning, "Link {LinkId} payment {PaymentId} broadcast but unconfirmed; content withheld and owed once it settles.")]
        public static partial void SettlementPending(ILogger logger, string linkId, string paymentId);
    }
}
