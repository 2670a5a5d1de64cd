using Microsoft.Extensions.Options;
using X402Serverless.Core.Charges;
using X402Serverless.Core.Links;
using X402Serverless.Core.Protocol;
using X402Serverless.Core.Usage;
using X402Serverless.Handler.Forwarding;
using X402Serverless.Handler.Hosting;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Paywall;

/// <summary>
/// An authorized paid call: forward → capture or release by the link's charge policy → respond. The payer pays
/// nothing for a failed call, and a charge not captured is released exactly once whatever happens here (an
/// exception, a cancelled request): the one place that guarantee is kept.
/// </summary>
internal sealed class PaidCallPipeline(
    UpstreamForwarder forwarder,
    PaymentRequiredResponder paywall,
    Usage.UsageRecorder usage,
    IOptions<GatewayOptions> options,
    OutboundWebhooks.WebhookEvents events,
    OutboundWebhooks.CreditsLowWatch creditsLow,
    ILogger<PaidLinkEndpoint> logger)
{
    public async Task<IResult> RunAsync(HttpContext http, CachedLink cached, string? rest, ICharge charge)
    {
        var concluded = false;
        async Task ReleaseAsync()
        {
            if (!concluded)
            {
                concluded = true;
                await charge.ReleaseOrLogAsync(logger, cached.Link.Id);
            }
        }

        try
        {
            var started = usage.Timestamp();
            using var outcome = await forwarder.SendAsync(http, cached.Upstream, rest, cached.UpstreamHeaders);
            if (outcome.Response is not { } upstream)
            {
                await ReleaseAsync();
                if (!charge.AlreadyPaid)
                {
                    usage.Failed(cached.Link, outcome.Failure == UpstreamFailure.Timeout ? ChargeKinds.Timeout : ChargeKinds.Unreachable);
                    PaidLinkLog.UpstreamFailed(logger, cached.Link.Id, outcome.Failure.ToString());
                }
                return ChargeResults.UpstreamProblem(outcome);
            }
            // Time to the upstream's response headers, for every answer it gave (a failure to answer has no latency).
            usage.Latency(cached.Link, started);
            if (!ChargePolicies.Charges(cached.Link.ChargeOn, (int)upstream.StatusCode))
            {
                // Not charged: the upstream's answer passed back as it is.
                await ReleaseAsync();
                if (!charge.AlreadyPaid)
                {
                    usage.Failed(cached.Link, ChargeKinds.UpstreamStatus);
                    PaidLinkLog.NotCharged(logger, cached.Link.Id, (int)upstream.StatusCode);
                }
                await forwarder.CopyResponseAsync(http, upstream, http.RequestAborted);
                return Results.Empty;
            }
            if (charge.CapturesCompleteAnswersOnly && await ReadAnswerAsync(http, outcome, upstream) is { } unreadable)
            {
                await ReleaseAsync();
                return unreadable;
            }

            // Captured before the payer sees a byte, so what they read next (a balance, a payment) is already right.
            var capture = await charge.CaptureAsync(CancellationToken.None);
            concluded = true;
            if (capture.Kind != CaptureKind.Captured)
            {
                return Withheld(http, cached, capture);
            }
            // A pass call is counted as a call, not a second payment (the pass was counted when sold).
            if (capture.Receipt is Core.Passes.PassReceipt)
            {
                usage.Count(cached.Link, UsageKinds.Pass);
            }
            else if (charge.AlreadyPaid)
            {
                usage.Count(cached.Link, UsageKinds.Paid);
            }
            else
            {
                usage.Charged(cached.Link, capture.Receipt!);
                await events.RaiseAsync(cached.Link.OrganisationId, Core.OutboundWebhooks.WebhookEventTypes.ChargeCaptured,
                    OutboundWebhooks.WebhookEventData.ChargeSubject(charge, capture.Receipt!), () => OutboundWebhooks.WebhookEventData.Charge(cached.Link, capture.Receipt!), CancellationToken.None);
                if (charge is BalanceCharge { Hold: { FromAllowance: false } hold })
                {
                    await creditsLow.CapturedAsync(cached.Link.OrganisationId, hold, CancellationToken.None);
                }
            }
            if (capture.Receipt is X402Receipt { Transaction: { } transaction } settled && !charge.AlreadyPaid)
            {
                PaidLinkLog.Settled(logger, cached.Link.Id, settled.Payment.Id, transaction);
            }
            ChargeResults.WriteReceipt(http, capture.Receipt!);
            // A buffered answer was paid for whole: it is sent even if the payer stops listening.
            await forwarder.CopyResponseAsync(http, upstream, charge.CapturesCompleteAnswersOnly ? CancellationToken.None : http.RequestAborted);
            return Results.Empty;
        }
        finally
        {
            await ReleaseAsync();
        }
    }

    /// <summary>Reads the whole answer before an irreversible capture; a problem (nothing charged) when it cannot be read.</summary>
    private async Task<IResult?> ReadAnswerAsync(HttpContext http, UpstreamOutcome outcome, HttpResponseMessage upstream)
    {
        try
        {
            await upstream.Content.LoadIntoBufferAsync(options.Value.MaxBufferedResponseBytes, outcome.BodyCancellation);
            return null;
        }
        catch (OperationCanceledException) when (!http.RequestAborted.IsCancellationRequested)
        {
            return Problem.Of(StatusCodes.Status504GatewayTimeout, "upstream_timeout", "The upstream timed out sending its body; nothing was charged.");
        }
        catch (HttpRequestException e)
        {
            return Problem.Of(StatusCodes.Status502BadGateway, "upstream_response_unusable", "The upstream response could not be read; nothing was charged.", e.Message);
        }
    }

    /// <summary>A capture that did not take the money: the content is withheld, and the payer told why.</summary>
    private IResult Withheld(HttpContext http, CachedLink cached, ChargeCapture capture)
    {
        switch (capture.Kind)
        {
            case CaptureKind.Refused:
                PaidLinkLog.SettleRefused(logger, cached.Link.Id, capture.Reason ?? "");
                if (capture.Receipt is X402Receipt refused)
                {
                    ChargeResults.WriteSettlement(http, refused);
                }
                return ChargeResults.Paywall(paywall, cached, capture.Reason ?? ReasonCodes.SettlementFailed, capture.Message ?? "Settlement failed; the content was withheld.");
            case CaptureKind.Unavailable:
                PaidLinkLog.FacilitatorDown(logger, cached.Link.Id);
                return Problem.Of(StatusCodes.Status503ServiceUnavailable, capture.Reason ?? ReasonCodes.FacilitatorUnavailable,
                    "The payment could not be settled now; the content was withheld.",
                    "Nothing was settled by this request. Retry with the same payment: if a facilitator did settle it meanwhile, the content is delivered then; otherwise sign a new one later.");
            default:
                PaidLinkLog.SettlementPending(logger, cached.Link.Id, (capture.Receipt as X402Receipt)?.Payment.Id ?? "");
                return ChargeResults.SettlementPending(http, "The payment is still settling; the content was withheld.",
                    "A settlement transaction is pending. Retry with the same payment: once it has settled, the content is delivered; if it never lands, nothing is charged.");
        }
    }
}
