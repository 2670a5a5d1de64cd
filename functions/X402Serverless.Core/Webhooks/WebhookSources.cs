namespace X402Serverless.Core.Webhooks;

/// <summary>The senders whose verified callbacks are stored in an inbox and processed from a queue.</summary>
public static class WebhookSources
{
    public const string Stripe = "stripe";

    public const string Kyc = "kyc";

    public static readonly IReadOnlyList<string> All = [Stripe, Kyc];
}
