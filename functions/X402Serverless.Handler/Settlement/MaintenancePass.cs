using Microsoft.Extensions.Options;
using X402Serverless.Core.Credits;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Settlement;
using X402Serverless.Core.Webhooks;
using X402Serverless.Handler.Hosting;

namespace X402Serverless.Handler.Settlement;

/// <summary>
/// The housekeeping that keeps money consistent after crashes and lost messages: requests that died mid-payment,
/// half-applied ledger entries, stale credit holds and pass spends, inbox messages left held, inbox refunds cut short, settled top-ups without credit, card checkouts never paid, webhook deliveries past their retention, and (when jobs run elsewhere)
/// due jobs, webhook events and inbox deliveries whose queue message was lost or whose retry came due. Standalone the worker runs it; in Azure, the
/// Maintenance timer function.
/// </summary>
internal sealed partial class MaintenancePass(
    IPaymentStore payments,
    SettlementProcessor processor,
    UsdcTopUps topUps,
    CreditCharges credits,
    ILedger ledger,
    IPassStore passes,
    IEnumerable<InboxProcessor> inboxes,
    JobQueues queues,
    Inbox.InboxRefundSweep inboxRefunds,
    Inbox.HeldMessages heldMessages,
    Stripe.CardCheckoutSweep cardCheckouts,
    IInboxMessageStore inboxMessages,
    OutboundWebhooks.WebhookRetention webhookRetention,
    TimeProvider time,
    IOptions<GatewayOptions> options,
    ILogger<MaintenancePass> logger)
{
    /// <summary>A request legitimately holds a payment this long at most: upstream, then an inline settlement, with margin.</summary>
    public TimeSpan StaleAfter =>
        TimeSpan.FromSeconds(options.Value.UpstreamTimeoutSeconds + 30) + options.Value.Settlement.InlineSettleTimeout;

    public async Task<int> RecoverStaleAsync(CancellationToken cancellationToken)
    {
        var stale = await payments.FindStaleAsync(time.GetUtcNow() - StaleAfter, 100, cancellationToken);
        foreach (var payment in stale)
        {
            Log.Recovering(logger, payment.Id, payment.Status.ToString());
            try
            {
                if (payment.Facilitator == Transfers.TransferAuthorizer.FacilitatorKind)
                {
                    // A transfer's record is written only after its hash was consumed: the money moved, nothing is left to settle.
                    await payments.MarkSettledAsync(payment.Id, payment.Nonce, time.GetUtcNow(), cancellationToken);
                    continue;
                }
                await processor.RecoverAsync(payment, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // One unreadable row must not stop the others from being recovered.
                Log.RecoveryFailed(logger, payment.Id, e);
            }
        }
        return stale.Count;
    }

    /// <summary>
    /// Releases the credit holds of requests that died with a previous process: with one embedded-store process, every
    /// hold placed before this one started is orphaned, so a restart returns the money at once rather than after
    /// <see cref="StaleAfter"/>.
    /// </summary>
    public Task<int> ReleaseOrphanedHoldsAsync(DateTimeOffset processStartedAt, CancellationToken cancellationToken) =>
        credits.ReleaseHeldBeforeAsync(processStartedAt, cancellationToken);

    /// <summary>
    /// Each step on its own: one that fails (a ledger entry still contended, a store briefly away) is logged and tried
    /// again at the next pass, and keeps none of the others (stale holds returned, refunds finished) from running.
    /// </summary>
    /// <returns>The steps that failed (none: all ran).</returns>
    public async Task<IReadOnlyList<string>> ReconcileAsync(CancellationToken cancellationToken)
    {
        var failed = new List<string>();
        async Task StepAsync(string name, Func<CancellationToken, Task> step)
        {
            try
            {
                await step(cancellationToken);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                Log.StepFailed(logger, name, e);
                failed.Add(name);
            }
        }
        await StepAsync("USDC top-ups", topUps.ReconcileAsync);
        await StepAsync("ledger recovery", ct => ledger.RecoverAsync(TimeSpan.FromMinutes(1), ct));
        await StepAsync("stale holds", ct => credits.ReleaseStaleAsync(StaleAfter, ct));
        await StepAsync("stale pass spends", GiveBackStaleSpendsAsync);
        await StepAsync("held inbox messages", heldMessages.SweepAsync);
        await StepAsync("inbox refunds", inboxRefunds.RunAsync);
        await StepAsync("card checkouts", cardCheckouts.RunAsync);
        await StepAsync("webhook retention", webhookRetention.RunAsync);
        return failed;
    }

    /// <summary>
    /// Gives back the pass calls taken by calls that never concluded (the process stopped mid-call), as stale credit holds
    /// are released: a call that never answered costs nothing. How many were given back.
    /// </summary>
    public async Task<int> GiveBackStaleSpendsAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var given = 0;
        foreach (var (linkId, spendId) in await passes.StaleSpendsAsync(now - StaleAfter, 100, cancellationToken))
        {
            if (await passes.GiveBackSpendAsync(linkId, spendId, now, cancellationToken))
            {
                given++;
            }
        }
        // The marks of spends given back are kept a week: long past any call's conclusion, which they refuse, and past the
        // decision of any inbox message left held that names one.
        await passes.ForgetGivenBackSpendsAsync(now - TimeSpan.FromDays(7), 1000, cancellationToken);
        return given;
    }

    /// <summary>Hands due jobs and unprocessed webhook events to the queue again (for deployments whose jobs run from a queue).</summary>
    public async Task<int> RedispatchAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var due = await payments.ClaimDueAsync(now, now.AddMinutes(5), 100, cancellationToken);
        foreach (var job in due)
        {
            // A new message id per attempt: the broker's duplicate detection would drop a re-send of the same id.
            await queues.SettlementAsync(job.Id, $"{job.Id}:{job.Attempts}:{now.ToUnixTimeSeconds() / 300}");
        }
        var events = 0;
        foreach (var inbox in inboxes)
        {
            foreach (var (id, _) in await inbox.Inbox.PendingAsync(100, cancellationToken))
            {
                await queues.InboxEventAsync(inbox.Source, id, $"{id}:{now.ToUnixTimeSeconds() / 300}");
                events++;
            }
        }
        // Inbox deliveries due again (a retry's time came, or a claim's lease ran out): the store holds when, the queue runs them.
        var messages = await inboxMessages.DueAsync(now, 100, cancellationToken);
        foreach (var message in messages)
        {
            await queues.InboxDeliveryAsync(message.Id, $"{message.Id}:{message.Attempts}:{now.ToUnixTimeSeconds() / 300}");
        }
        return due.Count + events + messages.Count;
    }

    private static partial class Log
    {
        [LoggerMessage(27, LogLevel.Warning, "Recovering payment {PaymentId} left {Status} by a request that did not finish.")]
        public static partial void Recovering(ILogger logger, string paymentId, string status);

        [LoggerMessage(28, LogLevel.Error, "Recovering payment {PaymentId} failed; it is retried at the next pass.")]
        public static partial void RecoveryFailed(ILogger logger, string paymentId, Exception exception);

        [LoggerMessage(29, LogLevel.Error, "Maintenance step {Step} failed; it is tried again at the next pass, and the other steps ran.")]
        public static partial void StepFailed(ILogger logger, string step, Exception exception);
    }
}
