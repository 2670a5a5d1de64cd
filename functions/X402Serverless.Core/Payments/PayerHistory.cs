namespace X402Serverless.Core.Payments;

/// <summary>What a wallet's past payments here say about serving it content before settlement.</summary>
public sealed record PayerHistory(bool HasSettled, bool HasFailedDeferred)
{
    /// <summary>Whether a deferred link may serve this wallet before settlement, given the link's <see cref="DeferredPayers"/> choice.</summary>
    public bool MayDefer(string deferredPayers) =>
        !HasFailedDeferred && (HasSettled || deferredPayers == DeferredPayers.Any);
}
