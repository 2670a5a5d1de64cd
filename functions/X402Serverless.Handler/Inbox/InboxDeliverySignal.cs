namespace X402Serverless.Handler.Inbox;

/// <summary>Wakes the delivery worker when a message is queued, so it is mailed at once, not at the next poll.</summary>
internal sealed class InboxDeliverySignal : Settlement.SettlementSignal;
