using Microsoft.Extensions.Options;
using X402Serverless.Core.Inbox;
using X402Serverless.Core.Money;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Hosting;

namespace X402Serverless.Handler.Inbox;

/// <summary>
/// A message is stored held, its charge captured, then it is queued (<see cref="QueueAsync"/>). A request stopped in
/// between (a crash, the store failing) leaves it held, paid for or not: the maintenance pass decides it
/// (<see cref="SweepAsync"/>), queueing what was paid for and deleting what was not, so a sender never pays for a
/// message that is neither delivered nor refunded.
/// </summary>
internal sealed partial class HeldMessages(IInboxMessageStore messages, ILedger ledger, IPaymentStore payments, IPassStore passes, Settlement.JobQueues queues,
    TimeProvider time, IOptions<GatewayOptions> options, ILogger<HeldMessages> logger)
{
    /// <summary>Queues a held message whose charge was captured (or that had none); false when it was no longer held.</summary>
    public async Task<bool> QueueAsync(InboxMessage held, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (!await messages.TryUpdateAsync(held with { Status = MessageStatuses.Queued, UpdatedAt = now, NextAttemptAt = now }, MessageStatuses.Held, held.Attempts,
            cancellationToken))
        {
            return false;
        }
        // Standalone this wakes the in-process worker; in Azure it queues the InboxDelivery function's job.
        await queues.InboxDeliveryAsync(held.Id);
        await messages.AddTotalsAsync(held.LinkId, new InboxTotals(1, held.PaidWith == InboxPaidWith.Free ? Usd.Zero : held.Amount, Usd.Zero, Usd.Zero),
            cancellationToken);
        return true;
    }

    /// <summary>
    /// Decides messages held past <see cref="InboxOptions.HeldGraceSeconds"/> (by default past any request that could still
    /// conclude its charge: a credit hold is swept back after 150 s, an inline settlement gives up sooner): how many were
    /// queued or deleted.
    /// </summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var decided = 0;
        List<Exception>? failed = null;
        var before = time.GetUtcNow() - TimeSpan.FromSeconds(options.Value.Inbox.HeldGraceSeconds);
        foreach (var message in await messages.HeldBeforeAsync(before, 100, cancellationToken))
        {
            // One message that cannot be decided now (its payment unreadable, a store away) keeps none of the others waiting.
            try
            {
                decided += await DecideAsync(message, cancellationToken) ? 1 : 0;
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                (failed ??= []).Add(new InvalidOperationException($"Inbox message {message.Id}: {e.Message}", e));
            }
        }
        return failed is null ? decided : throw new AggregateException($"{failed.Count} held inbox messages could not be decided now; {decided} were.", failed);
    }

    private async Task<bool> DecideAsync(InboxMessage message, CancellationToken cancellationToken)
    {
        var paid = await PaidAsync(message, cancellationToken);
        if (paid == true && await QueueAsync(message, cancellationToken))
        {
            Log.Queued(logger, message.Id, message.LinkId);
            return true;
        }
        if (paid == false)
        {
            await messages.DeleteHeldAsync(message.Id, cancellationToken);
            Log.Dropped(logger, message.Id, message.LinkId);
            return true;
        }
        return false; // its payment is still being settled (or another run queued it meanwhile): a later pass decides it
    }

    /// <summary>Whether the message's charge took the money; null while its x402 payment is still being settled.</summary>
    private async Task<bool?> PaidAsync(InboxMessage message, CancellationToken cancellationToken)
    {
        if (message.PaidWith == InboxPaidWith.Free)
        {
            return true;
        }
        if (message.PaidWith == InboxPaidWith.Pass)
        {
            // Its pass call: kept if its request concluded it, or kept now if that request stopped first; not if it was
            // given back (the stale sweep returns a stopped request's call before this decides its message).
            return message.SpendId is not { } spend || await passes.ConcludeSpendAsync(message.LinkId, spend, cancellationToken);
        }
        if (message.HoldId is { } hold)
        {
            return await ledger.EntryExistsAsync($"{hold}:capture", cancellationToken); // not captured: the stale-hold sweep gives it back
        }
        if (message.PaymentId is not { } paymentId
            || await payments.GetAsync(paymentId, cancellationToken) is not { } payment
            || payment.CreatedAt > message.CreatedAt)
        {
            return false; // freed (nothing moved), or reserved afresh by a later request, which delivers its own message
        }
        return payment.Status switch
        {
            // Owed when its request stopped before its capture and recovery settled it: the message claims it, unless a
            // retry of the payment already did (and delivered its own message). Not owed: its own request captured it.
            // (Left: owed content a retry claimed before this ran reads the same as that; its message is delivered too.)
            // A claim lost to another sweep at once leaves it for the next pass, which finds it claimed (never deleted, paid).
            PaymentStatus.Settled => !payment.ContentOwed || await payments.TrySetContentOwedAsync(paymentId, false, cancellationToken) ? true : null,
            PaymentStatus.Pending when payment.Mode == SettlementModes.Deferred => true, // captured deferred: the worker settles it
            PaymentStatus.Reserved or PaymentStatus.Pending or PaymentStatus.Settling => null, // payment recovery concludes it
            _ => false, // failed or expired: nothing moved
        };
    }

    private static partial class Log
    {
        [LoggerMessage(125, LogLevel.Warning, "Inbox message {MessageId} to link {LinkId} was left held by a stopped request after it was paid for; it is queued now.")]
        public static partial void Queued(ILogger logger, string messageId, string linkId);

        [LoggerMessage(126, LogLevel.Warning, "Inbox message {MessageId} to link {LinkId} was left held by a stopped request and never paid for; it is deleted.")]
        public static partial void Dropped(ILogger logger, string messageId, string linkId);
    }
}
