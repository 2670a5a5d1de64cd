namespace X402Serverless.Core.Facilitation;

/// <summary>
/// What settlement produced. <see cref="Reached"/> false means the facilitator could not be asked or answered
/// nonsense: nothing is known to have moved on chain.
/// </summary>
public sealed record SettleOutcome(bool Reached, bool Success, string? Transaction, string? Network, string? Payer, string? ErrorReason, string? ErrorMessage)
{
    public static SettleOutcome Unreachable(string message) =>
        new(false, false, null, null, null, Protocol.ReasonCodes.FacilitatorUnavailable, message);
}
