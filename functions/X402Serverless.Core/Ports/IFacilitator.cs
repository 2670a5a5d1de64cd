using X402Serverless.Core.Facilitation;

namespace X402Serverless.Core.Ports;

/// <summary>Settles verified payments on chain (any standard x402 facilitator, or a built-in one).</summary>
public interface IFacilitator
{
    /// <summary>Whether settlement can be attempted now; checked before any upstream call.</summary>
    ValueTask<bool> IsAvailableAsync(CancellationToken cancellationToken);

    Task<SettleOutcome> SettleAsync(SettleRequest request, CancellationToken cancellationToken);
}
