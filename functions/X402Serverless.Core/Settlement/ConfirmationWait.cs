namespace X402Serverless.Core.Settlement;

/// <summary>
/// How long a remote facilitator's transaction is looked for on our own node before the payment is reported pending:
/// the facilitator's node may be a block ahead of ours.
/// </summary>
public sealed record ConfirmationWait(TimeSpan Timeout, TimeSpan Poll)
{
    public static ConfirmationWait Default { get; } = new(TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(250));
}
