namespace X402Serverless.Handler.Webhooks;

/// <summary>Wakes the inbox worker when a verified webhook event is stored.</summary>
internal sealed class InboxSignal : Settlement.SettlementSignal;
