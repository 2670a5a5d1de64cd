using Microsoft.Extensions.Options;
using X402Serverless.Core.Inbox;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Hosting;

namespace X402Serverless.Handler.Inbox;

/// <summary>
/// One delivery attempt of a due message: claimed by a conditional write (status and attempt unchanged), so two
/// workers, or one job run twice, never both send it; then mailed, and the outcome recorded against that claim.
/// A failure is retried with backoff; a permanent refusal, or the last attempt, fails the message and gives the
/// money back. A delivered message is final: nothing sends it again.
/// </summary>
internal sealed partial class InboxDelivery(
    IInboxMessageStore messages,
    SmtpMailer mailer,
    InboxWebhook webhook,
    InboxRefunds refunds,
    TimeProvider time,
    IOptions<InboxOptions> options,
    ILogger<InboxDelivery> logger)
{
    public async Task<string> RunAsync(InboxMessage due, CancellationToken cancellationToken)
    {
        var o = options.Value;
        var now = time.GetUtcNow();
        var claimed = due with
        {
            Status = MessageStatuses.Sending,
            Attempts = due.Attempts + 1,
            NextAttemptAt = now + TimeSpan.FromSeconds(o.LeaseSeconds),
            UpdatedAt = now,
        };
        if (due.Status is not (MessageStatuses.Queued or MessageStatuses.Sending)
            || !await messages.TryUpdateAsync(claimed, due.Status, due.Attempts, cancellationToken))
        {
            return "skipped: claimed elsewhere";
        }
        var domain = MessageIdDomain(o);
        var (outcome, error, deliveredTo) = await SendToTargetsAsync(claimed, o, domain, cancellationToken);
        claimed = claimed with { DeliveredTo = deliveredTo };
        now = time.GetUtcNow();
        var backoff = new DeliveryBackoff(TimeSpan.FromSeconds(o.FirstRetrySeconds), TimeSpan.FromSeconds(o.MaxRetrySeconds), o.MaxAttempts);
        switch (outcome)
        {
            case SendOutcome.Sent:
                var delivered = claimed with { Status = MessageStatuses.Delivered, DeliveredAt = now, UpdatedAt = now, NextAttemptAt = now, LastError = null };
                await messages.TryUpdateAsync(delivered, MessageStatuses.Sending, claimed.Attempts, CancellationToken.None);
                Log.Delivered(logger, claimed.Id, claimed.LinkId, claimed.Attempts);
                await AutoReplyAsync(delivered, domain, o);
                return "delivered";
            case SendOutcome.Transient when claimed.Attempts < backoff.MaxAttempts:
                var retry = claimed with { Status = MessageStatuses.Queued, NextAttemptAt = now + backoff.After(claimed.Attempts), UpdatedAt = now, LastError = error };
                await messages.TryUpdateAsync(retry, MessageStatuses.Sending, claimed.Attempts, CancellationToken.None);
                Log.Retrying(logger, claimed.Id, claimed.Attempts, retry.NextAttemptAt, error ?? "");
                return "retry";
            case var _ when deliveredTo.Count > 0:
                // One target took it: the owner has the message, so it was paid for. The target that refused (the owner's
                // own webhook or mailbox) is the owner's to fix, and a sender cannot make it refuse to write for free.
                var partly = claimed with { Status = MessageStatuses.Delivered, DeliveredAt = now, UpdatedAt = now, NextAttemptAt = now, LastError = error };
                if (!await messages.TryUpdateAsync(partly, MessageStatuses.Sending, claimed.Attempts, CancellationToken.None))
                {
                    return "skipped: changed meanwhile";
                }
                Log.Delivered(logger, claimed.Id, claimed.LinkId, claimed.Attempts);
                await AutoReplyAsync(partly, domain, o);
                return "delivered in part";
            default:
                // Failed first, so no later claim can deliver it; then the money goes back, and that is recorded.
                var failed = claimed with { Status = MessageStatuses.Failed, UpdatedAt = now, LastError = error };
                if (!await messages.TryUpdateAsync(failed, MessageStatuses.Sending, claimed.Attempts, CancellationToken.None))
                {
                    return "skipped: changed meanwhile";
                }
                // A crash before this line leaves the refund undecided: the maintenance pass's sweep finishes it.
                var refunded = await refunds.FinishAsync(failed, CancellationToken.None);
                Log.Failed(logger, claimed.Id, claimed.Attempts, refunded?.Refunded == true, error ?? "");
                return "failed";
        }
    }

    /// <summary>
    /// Sends to each target that has not accepted the message yet (mail, then the webhook), so a target is delivered to at
    /// most once across attempts: the targets done are recorded with the outcome. The message is delivered when every
    /// target accepted it; a permanent refusal of one stops the attempt (the message fails and is refunded unless another
    /// target has it already).
    /// </summary>
    private async Task<(SendOutcome Outcome, string? Error, IReadOnlyList<string> DeliveredTo)> SendToTargetsAsync(
        InboxMessage claimed, InboxOptions o, string domain, CancellationToken cancellationToken)
    {
        var done = (claimed.DeliveredTo ?? []).ToList();
        var targets = claimed.Targets();
        if (targets.Count == 0)
        {
            return (SendOutcome.Permanent, "The message has no delivery target.", done);
        }
        var (outcome, error) = (SendOutcome.Sent, (string?)null);
        foreach (var target in targets.Where(t => !done.Contains(t)))
        {
            SendOutcome sent;
            string? failure;
            try
            {
                (sent, failure) = target == DeliveryTargets.Email
                    ? await mailer.SendAsync(InboxMail.Compose(claimed, o.From, domain), cancellationToken)
                    : await webhook.SendAsync(claimed, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // Anything unforeseen (a From that does not parse, a library fault) counts as an attempt, so MaxAttempts bounds it.
                (sent, failure) = (SendOutcome.Transient, $"{e.GetType().Name}: {e.Message}");
            }
            if (sent == SendOutcome.Sent)
            {
                done.Add(target);
                continue;
            }
            (outcome, error) = (sent, targets.Count > 1 ? $"{target}: {failure}" : failure);
            if (sent == SendOutcome.Permanent)
            {
                break;
            }
        }
        return (outcome, error, done);
    }

    /// <summary>Best effort, once (it follows the one transition to delivered): a refused auto-reply changes nothing paid for.</summary>
    private async Task AutoReplyAsync(InboxMessage delivered, string domain, InboxOptions o)
    {
        if (delivered is not { ReplyTo: not null } || AutoReplyText(delivered) is not { } text)
        {
            return;
        }
        var (outcome, error) = await mailer.SendAsync(InboxMail.AutoReply(delivered, text, o.From, domain), CancellationToken.None);
        if (outcome != SendOutcome.Sent)
        {
            Log.AutoReplyFailed(logger, delivered.Id, error ?? "");
        }
    }

    private static string? AutoReplyText(InboxMessage message) => message.AutoReply;

    private static string MessageIdDomain(InboxOptions o) =>
        !string.IsNullOrWhiteSpace(o.MessageIdDomain) ? o.MessageIdDomain : o.From[(o.From.LastIndexOf('@') + 1)..].TrimEnd('>');

    private static partial class Log
    {
        [LoggerMessage(120, LogLevel.Information, "Inbox message {MessageId} to link {LinkId} delivered (attempt {Attempt}).")]
        public static partial void Delivered(ILogger logger, string messageId, string linkId, int attempt);

        [LoggerMessage(121, LogLevel.Warning, "Inbox message {MessageId}: attempt {Attempt} failed ({Error}); retrying at {NextAttempt}.")]
        public static partial void Retrying(ILogger logger, string messageId, int attempt, DateTimeOffset nextAttempt, string error);

        [LoggerMessage(122, LogLevel.Warning, "Inbox message {MessageId} failed after {Attempts} attempts ({Error}); refunded: {Refunded}.")]
        public static partial void Failed(ILogger logger, string messageId, int attempts, bool refunded, string error);

        [LoggerMessage(123, LogLevel.Warning, "Inbox message {MessageId}: the auto-reply was not sent ({Error}).")]
        public static partial void AutoReplyFailed(ILogger logger, string messageId, string error);
    }
}
