using Microsoft.Extensions.Options;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Hosting;

namespace X402Serverless.Handler.Inbox;

/// <summary>
/// Finishes refunds interrupted by a crash between a delivery's "failed" write and its refund: failed, paid messages
/// whose refund is still undecided after a grace period (the delivery decides it a moment after "failed"). Run by
/// the maintenance pass; idempotent (see <see cref="InboxRefunds.FinishAsync"/>).
/// </summary>
internal sealed partial class InboxRefundSweep(IInboxMessageStore messages, InboxRefunds refunds, TimeProvider time,
    IOptions<GatewayOptions> options, ILogger<InboxRefundSweep> logger)
{
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var grace = TimeSpan.FromSeconds(options.Value.Inbox.RefundGraceSeconds);
        var due = await messages.RefundsDueAsync(time.GetUtcNow() - grace, 100, cancellationToken);
        foreach (var message in due)
        {
            var finished = await refunds.FinishAsync(message, cancellationToken);
            Log.Finished(logger, message.Id, finished?.Refunded == true);
        }
        return due.Count;
    }

    private static partial class Log
    {
        [LoggerMessage(124, LogLevel.Warning, "Inbox message {MessageId}: an interrupted refund was finished; refunded: {Refunded}.")]
        public static partial void Finished(ILogger logger, string messageId, bool refunded);
    }
}
