namespace X402Serverless.Handler.Paywall;

/// <summary>The paid path's log events (logged under <see cref="PaidLinkEndpoint"/>'s category).</summary>
internal static partial class PaidLinkLog
{
    [LoggerMessage(1, LogLevel.Warning, "Facilitator unavailable; link {LinkId} refused payment without calling the upstream or charging.")]
    public static partial void FacilitatorDown(ILogger logger, string linkId);

    [LoggerMessage(2, LogLevel.Information, "Upstream of link {LinkId} failed ({Failure}); not charged.")]
    public static partial void UpstreamFailed(ILogger logger, string linkId, string failure);

    [LoggerMessage(3, LogLevel.Information, "Upstream of link {LinkId} answered {Status}; not charged.")]
    public static partial void NotCharged(ILogger logger, string linkId, int status);

    [LoggerMessage(4, LogLevel.Warning, "Facilitator refused settlement for link {LinkId}: {Reason}.")]
    public static partial void SettleRefused(ILogger logger, string linkId, string reason);

    [LoggerMessage(5, LogLevel.Information, "Link {LinkId} payment {PaymentId} settled in {Transaction}.")]
    public static partial void Settled(ILogger logger, string linkId, string paymentId, string transaction);

    [LoggerMessage(6, LogLevel.Warning, "Link {LinkId} payment {PaymentId} broadcast but unconfirmed; content withheld and owed once it settles.")]
    public static partial void SettlementPending(ILogger logger, string linkId, string paymentId);

    [LoggerMessage(7, LogLevel.Error, "Releasing the {Charge} of a call to link {LinkId} failed; what it authorized is given back by recovery.")]
    public static partial void ReleaseFailed(ILogger logger, Exception exception, string linkId, string charge);
}
