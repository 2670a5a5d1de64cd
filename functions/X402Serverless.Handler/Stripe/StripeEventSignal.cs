namespace X402Serverless.Handler.Stripe;

/// <summary>Wakes the Stripe event worker when an event is stored.</summary>
internal sealed class StripeEventSignal : Settlement.SettlementSignal;
