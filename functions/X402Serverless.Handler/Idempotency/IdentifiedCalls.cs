using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using X402Serverless.Core.Charges;
using X402Serverless.Core.Idempotency;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Protocol;
using X402Serverless.Handler.Charges;
using X402Serverless.Handler.Hosting;
using X402Serverless.Handler.Paywall;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Idempotency;

/// <summary>
/// x402's <c>payment-identifier</c> on paid links: an x402 payment that carries an id claims (link, payer, id) before
/// anything is charged. The call then runs the ordinary way (replay guard, charge, settlement) and, when its charge
/// took the money, its answer is recorded; the same payload and id again within the window gets that answer back
/// instead of the replay guard's refusal, and is never charged twice. Requests without an id are not touched.
/// </summary>
internal sealed class IdentifiedCalls(
    IPaymentIdentifierStore store,
    IPaymentStore payments,
    PaymentVerifier verifier,
    PaidCallAuthorizer authorizer,
    PaidCallPipeline pipeline,
    PaymentRequiredResponder paywall,
    TimeProvider time,
    IOptions<GatewayOptions> options,
    ILogger<IdentifiedCalls> logger)
{
    private const int SweepBatch = 500;
    private static readonly TimeSpan SweepEvery = TimeSpan.FromMinutes(1);
    private long _lastSweepTicks;

    /// <summary>The whole answer to a request carrying a payment identifier, or null to handle it as any other.</summary>
    public async Task<IResult?> TryHandleAsync(HttpContext http, CachedLink cached, string? rest)
    {
        var (version, header) = PaymentHeaders.Read(http.Request);
        if (version == 0 || !cached.Link.Accepts402 || PaymentHeaderDecoder.Decode(header, version).Payment is not { } payment)
        {
            // No x402 payment, or one the ordinary path refuses with its own reason.
            return null;
        }
        var (id, error) = PaymentIdentifiers.Read(payment.Raw);
        if (error is not null)
        {
            return Problem.Of(StatusCodes.Status400BadRequest, PaymentIdentifiers.Invalid, "The payment identifier is malformed; nothing was charged.", error);
        }
        if (id is null)
        {
            return cached.Link.PaymentIdentifierRequired
                ? Problem.Of(StatusCodes.Status400BadRequest, PaymentIdentifiers.Required, "This link requires a payment identifier; nothing was charged.",
                    "Add extensions[\"payment-identifier\"].info.id (16–128 of letters, digits, '-' and '_') to the payment payload.")
                : null;
        }
        if (RequirementMatcher.Match(payment, cached.Requirements).Requirement is not { } requirement)
        {
            return null;
        }

        var now = time.GetUtcNow();
        var auth = payment.Authorization;
        var call = new IdentifiedCall
        {
            LinkId = cached.Link.Id,
            Payer = auth.From.ToLowerHex(),
            Id = id,
            Fingerprint = PaymentIdentifiers.Fingerprint(payment.Raw, http.Request.Method, (rest ?? "") + http.Request.QueryString.Value),
            PaymentId = PaymentId.For(requirement.Network.ChainId, requirement.Network.Asset, auth.From, auth.Nonce),
            Owner = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
            ExpiresAt = now + InFlightLease(),
        };
        await SweepNowAndThenAsync(now);
        var claim = await store.ClaimAsync(call, now, http.RequestAborted);
        if (!claim.Claimed)
        {
            return await RepeatAsync(http, cached, claim.Found, call, payment, requirement);
        }
        if (claim.Found is { Completed: false } crashed && crashed.Fingerprint == call.Fingerprint)
        {
            // The call that held this id died before its answer was recorded: settle what its payment became.
            var record = await payments.GetAsync(call.PaymentId, http.RequestAborted);
            if (record is { Status: PaymentStatus.Reserved or PaymentStatus.Settling })
            {
                return InProgress(http, "The first call's payment is still being resolved; retry shortly.");
            }
            // A pass purchase's payment buys no call, even one identified as this one.
            if (record is not null && record.LinkId == cached.Link.Id && record.Purpose == PaymentPurposes.Content)
            {
                var network = X402Charges.NetworkName(payment.Version, requirement);
                // Content withheld while settling is owed once: delivering it here redeems it, so it is not owed twice.
                ICharge? recovered = record.ContentOwed
                    ? await RedeemCharge.ClaimAsync(payments, record, payment.Version, network, http.RequestAborted)
                    : RecoveredCharge.For(record, payment.Version, network);
                if (recovered is not null)
                {
                    return await RunAsync(http, cached, rest, recovered, call, abandonUncaptured: false);
                }
            }
        }

        var authorization = await authorizer.AuthorizeAsync(http, cached);
        if (authorization.Charge is not { } charge)
        {
            await store.AbandonAsync(call.LinkId, call.Payer, call.Id, call.Owner, CancellationToken.None);
            return authorization.Refusal!;
        }
        return await RunAsync(http, cached, rest, charge, call, abandonUncaptured: true);
    }

    /// <summary>Runs the paid call, recording its answer when its charge took the money and freeing the id when nothing was charged.</summary>
    internal async Task<IResult> RunAsync(HttpContext http, CachedLink cached, string? rest, ICharge charge, IdentifiedCall call, bool abandonUncaptured)
    {
        var recording = new RecordingCharge(charge);
        var tee = new AnswerTee(http.Response.Body, RecordedAnswer.MaxBodyBytes);
        http.Response.Body = tee;
        IResult result;
        try
        {
            result = await pipeline.RunAsync(http, cached, rest, recording);
        }
        catch when (!recording.Captured && abandonUncaptured)
        {
            await store.AbandonAsync(call.LinkId, call.Payer, call.Id, call.Owner, CancellationToken.None);
            throw;
        }
        finally
        {
            http.Response.Body = tee.Inner;
        }
        if (!recording.Captured)
        {
            // Nothing charged (or the content stays owed while settling): a retry runs the ordinary way again. A recovery
            // that failed keeps its claim until the claim runs out, so the crash is still known to the next retry.
            if (abandonUncaptured)
            {
                await store.AbandonAsync(call.LinkId, call.Payer, call.Id, call.Owner, CancellationToken.None);
            }
        }
        else
        {
            await CompleteAsync(call, new RecordedAnswer(http.Response.StatusCode, RecordedHeaders.Write(http.Response.Headers), tee.Copy));
        }
        // Only now may the payer read the answer, so a retry after it finds the outcome recorded.
        await tee.ReleaseAsync(http.RequestAborted);
        return result;
    }

    /// <summary>Records the answer a charged call gave, kept for the window.</summary>
    internal async Task CompleteAsync(IdentifiedCall call, RecordedAnswer answer)
    {
        var window = TimeSpan.FromMinutes(options.Value.PaymentIdentifiers.WindowMinutes);
        try
        {
            await store.CompleteAsync(call with { Completed = true, Answer = answer, ExpiresAt = time.GetUtcNow() + window }, CancellationToken.None);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The payer already has its answer: a store failure here must not break it. The claim stays in flight.
            IdentifiedCallsLog.NotRecorded(logger, call.LinkId, call.PaymentId, e);
        }
    }

    /// <summary>The id is held by another call: its answer again, or why not.</summary>
    private async Task<IResult?> RepeatAsync(HttpContext http, CachedLink cached, IdentifiedCall? found, IdentifiedCall call, DecodedPayment payment, PaymentRequirement requirement)
    {
        if (found is null)
        {
            return InProgress(http, "The payment identifier is being claimed; retry shortly.");
        }
        if (found.Fingerprint != call.Fingerprint)
        {
            // Only the payer can sign another valid payment: anyone else learns nothing about the id and gets the
            // ordinary refusal of their payment.
            return verifier.Verify(payment, requirement).IsValid
                ? Problem.Of(StatusCodes.Status409Conflict, PaymentIdentifiers.Conflict, "This payment identifier was used with another payment or request; nothing was charged.",
                    "Use a new payment identifier for a new payment.")
                : null;
        }
        if (!found.Completed)
        {
            return InProgress(http, "The first call with this payment identifier is still running; retry shortly.");
        }
        // A call served before settlement (deferred) whose payment then failed was not paid for: not served again.
        if (await payments.GetAsync(found.PaymentId, http.RequestAborted) is { Status: PaymentStatus.Failed or PaymentStatus.Expired } unpaid)
        {
            return ChargeResults.Paywall(paywall, cached, unpaid.FailureReason ?? ReasonCodes.SettlementFailed,
                "The payment for this call failed when it was settled; its answer is not given again.");
        }
        return new ReplayedAnswer(found.Answer!);
    }

    /// <summary>At least as long as a paid call can take (upstream, then inline settlement), so a live call keeps its id.</summary>
    internal TimeSpan InFlightLease()
    {
        var gateway = options.Value;
        var longest = TimeSpan.FromSeconds(gateway.UpstreamTimeoutSeconds) + gateway.Settlement.InlineSettleTimeout + TimeSpan.FromSeconds(30);
        var configured = TimeSpan.FromSeconds(gateway.PaymentIdentifiers.InFlightSeconds);
        return configured > longest ? configured : longest;
    }

    internal static IResult InProgress(HttpContext http, string title)
    {
        http.Response.Headers.RetryAfter = "1";
        return Problem.Of(StatusCodes.Status409Conflict, PaymentIdentifiers.InProgress, title,
            "Nothing was charged by this request. Retry with the same payment and identifier to get the first call's answer.");
    }

    // Claims are what fill the store, so they also empty it; one caller a minute per instance does the sweep.
    private async Task SweepNowAndThenAsync(DateTimeOffset now)
    {
        var last = Interlocked.Read(ref _lastSweepTicks);
        if (now.UtcTicks - last >= SweepEvery.Ticks && Interlocked.CompareExchange(ref _lastSweepTicks, now.UtcTicks, last) == last)
        {
            await store.DeleteExpiredAsync(now, SweepBatch, CancellationToken.None);
        }
    }
}
