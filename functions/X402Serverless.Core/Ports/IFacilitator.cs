using X402Serverless.Core.Facilitation;

namespace X402Serverless.Core.Ports;

/// <summary>Settles verified payments on chain (any standard x402 facilitator, or a built-in one).</summary>
public interface IFacilitator
{
    /// <summary>Whether settlement can be attempted now; checked before any upstream call.</summary>
    ValueTask<bool> IsAvailableAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Asks the facilitator to verify (with its on-chain simulation: balance, nonce state). Used only when the
    /// deployment opts in; local verification already covers signature, amount, recipient and time.
    /// </summary>
    Task<VerifyOutcome> VerifyAsync(SettleRequest request, CancellationToken cancellationToken);

    Task<SettleOutcome> SettleAsync(SettleRequest request, CancellationToken cancellationToken);
}
