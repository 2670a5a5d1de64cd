using X402Serverless.Core.Inbox;
using X402Serverless.Core.Links;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Management;

namespace X402Serverless.Handler.Inbox;

/// <summary>
/// What an inbox's owner does with its messages, shared by the management API and the console: both have already
/// checked that the link is the caller organisation's, and a message of another link reads as missing.
/// </summary>
internal sealed class InboxOwner(IInboxMessageStore messages, InboxRefunds refunds, LinkServices links)
{
    public const int MaxPageSize = 100;

    public Task<InboxMessagePage> ListAsync(PaidLink link, string? after, int limit, CancellationToken cancellationToken) =>
        messages.ListAsync(link.Id, after is { Length: > 0 and <= 200 } ? after : null, Math.Clamp(limit, 1, MaxPageSize), cancellationToken);

    public Task<InboxTotals> TotalsAsync(PaidLink link, CancellationToken cancellationToken) => messages.TotalsAsync(link.Id, cancellationToken);

    public async Task<InboxMessage?> FindAsync(PaidLink link, string receipt, CancellationToken cancellationToken) =>
        InboxMessages.IsReceiptId(receipt) && await messages.GetAsync(receipt, cancellationToken) is { } message
            && message.LinkId == link.Id && message.Status != MessageStatuses.Held
            ? message
            : null;

    /// <summary>
    /// Gives a message's money back: balances through the ledger, x402 recorded as owed (it moved on chain). Only a
    /// final message (delivered or failed) is refunded, so a refunded message is never delivered afterwards; a second
    /// refund changes nothing. Null and a code when it cannot be refunded.
    /// </summary>
    public async Task<(InboxMessage? Message, string? Refused)> RefundAsync(InboxMessage message, CancellationToken cancellationToken)
    {
        if (!message.Paid)
        {
            return (null, "message_not_paid");
        }
        if (message.Status is not (MessageStatuses.Delivered or MessageStatuses.Failed))
        {
            return (null, "message_not_final");
        }
        return (await refunds.FinishAsync(message, cancellationToken), null);
    }

    /// <summary>The message's sender identities the owner can block: the payer account or wallet (proven by the payment) and the reply-to.</summary>
    public static IReadOnlyList<string> SenderOf(InboxMessage message) =>
        new[] { message.Payer ?? PayerOfHold(message.HoldSource), message.ReplyTo }
            .Where(s => s is { Length: > 0 }).Select(s => s!).Distinct(StringComparer.OrdinalIgnoreCase).ToList();

    /// <summary>The block list with the message's sender added (entries compare case-insensitively, as the inbox matches them).</summary>
    public static List<string> BlockingSenderOf(PaidLink link, InboxMessage message) =>
        link.Inbox!.Block.Union(SenderOf(message), StringComparer.OrdinalIgnoreCase).ToList();

    /// <summary>Replaces the inbox's block list through the link editor (validated and the cache invalidated as any change).</summary>
    public Task<(PaidLink? Link, List<ValidationError> Errors)> SetBlockedAsync(PaidLink link, IReadOnlyList<string> blocked, CancellationToken cancellationToken) =>
        links.UpdateLinkAsync(link, new LinkDraft { Inbox = new InboxDraft { Block = blocked } }.Normalized(), cancellationToken);

    // A balance hold's source names the payer: "credits:{payerId}" or "allowance:{organisation}:{payerId}".
    private static string? PayerOfHold(string? source) =>
        source?.Split(':') is [.., var last] && last.StartsWith("payer_", StringComparison.Ordinal) ? last : null;
}
