namespace X402Serverless.Handler.Idempotency;

/// <summary>Log events of payment identifiers (under <see cref="IdentifiedCalls"/>'s category).</summary>
internal static partial class IdentifiedCallsLog
{
    [LoggerMessage(801, LogLevel.Warning, "The answer of link {LinkId} payment {PaymentId} was delivered but not recorded under its payment identifier; a retry after the claim runs out recovers it without charging.")]
    public static partial void NotRecorded(ILogger logger, string linkId, string paymentId, Exception exception);
}
