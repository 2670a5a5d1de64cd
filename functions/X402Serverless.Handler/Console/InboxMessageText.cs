using X402Serverless.Core.Inbox;

namespace X402Serverless.Handler.ProviderConsole;

/// <summary>A message's status as the owner reads it: delivery, then what happened to the money.</summary>
internal static class InboxMessageText
{
    public static string Status(InboxMessage m) =>
        MessageStatuses.Public(m.Status) + (m.Refunded ? " · refunded" : m.RefundOwed ? " · refund owed" : "");
}
