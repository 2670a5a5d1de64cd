using X402Serverless.Core.Passes;
using X402Serverless.Core.Ports;

namespace X402Serverless.Tests.Support;

/// <summary>A pass store that forwards every call to <paramref name="inner"/> and lets a test fail a write at a chosen moment.</summary>
internal sealed class HookedPassStore(IPassStore inner) : IPassStore
{
    /// <summary>Runs before a pass is stored (it may throw, as a store that is down would).</summary>
    public Func<Pass, Task>? BeforeAdd { get; init; }

    /// <summary>Runs before a spend's call is given back (it may throw, as a store that is down would).</summary>
    public Func<string, Task>? BeforeGiveBackSpend { get; init; }

    public async Task<bool> AddAsync(Pass pass, CancellationToken cancellationToken)
    {
        if (BeforeAdd is { } hook)
        {
            await hook(pass);
        }
        return await inner.AddAsync(pass, cancellationToken);
    }

    public async Task<bool> GiveBackSpendAsync(string linkId, string spendId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (BeforeGiveBackSpend is { } hook)
        {
            await hook(spendId);
        }
        return await inner.GiveBackSpendAsync(linkId, spendId, now, cancellationToken);
    }

    public Task<SpendState> SpendStateAsync(string linkId, string spendId, CancellationToken cancellationToken) => inner.SpendStateAsync(linkId, spendId, cancellationToken);

    public Task<int> ForgetGivenBackSpendsAsync(DateTimeOffset before, int max, CancellationToken cancellationToken) => inner.ForgetGivenBackSpendsAsync(before, max, cancellationToken);

    public Task<Pass?> GetAsync(string linkId, string id, CancellationToken cancellationToken) => inner.GetAsync(linkId, id, cancellationToken);

    public Task<IReadOnlyList<Pass>> ListForLinkAsync(string linkId, int max, CancellationToken cancellationToken) => inner.ListForLinkAsync(linkId, max, cancellationToken);

    public Task<IReadOnlyList<Pass>> ListForHolderAsync(string holder, string? linkId, int max, CancellationToken cancellationToken) =>
        inner.ListForHolderAsync(holder, linkId, max, cancellationToken);

    public Task<bool> RevokeAsync(string linkId, string id, DateTimeOffset at, string reason, CancellationToken cancellationToken) =>
        inner.RevokeAsync(linkId, id, at, reason, cancellationToken);

    public Task<Pass?> TrySpendAsync(string linkId, string holder, DateTimeOffset now, string spendId, CancellationToken cancellationToken) =>
        inner.TrySpendAsync(linkId, holder, now, spendId, cancellationToken);

    /// <summary>Runs before a spend is concluded (it may throw, as a store that is down would).</summary>
    public Func<string, Task>? BeforeConcludeSpend { get; init; }

    /// <summary>Runs after a spend was concluded (it may throw, as an answer lost on the way back would).</summary>
    public Func<string, Task>? AfterConcludeSpend { get; init; }

    public async Task<bool> ConcludeSpendAsync(string linkId, string spendId, CancellationToken cancellationToken)
    {
        if (BeforeConcludeSpend is { } before)
        {
            await before(spendId);
        }
        var kept = await inner.ConcludeSpendAsync(linkId, spendId, cancellationToken);
        if (AfterConcludeSpend is { } after)
        {
            await after(spendId);
        }
        return kept;
    }

    public Task<IReadOnlyList<(string LinkId, string SpendId)>> StaleSpendsAsync(DateTimeOffset before, int max, CancellationToken cancellationToken) =>
        inner.StaleSpendsAsync(before, max, cancellationToken);

    public Task<bool> GiveBackOnceAsync(string linkId, string passId, string key, DateTimeOffset now, CancellationToken cancellationToken) =>
        inner.GiveBackOnceAsync(linkId, passId, key, now, cancellationToken);

    public Task<bool> UseNonceAsync(string nonce, DateTimeOffset keepUntil, CancellationToken cancellationToken) => inner.UseNonceAsync(nonce, keepUntil, cancellationToken);

    public Task<int> DeleteExpiredNoncesAsync(DateTimeOffset now, int max, CancellationToken cancellationToken) => inner.DeleteExpiredNoncesAsync(now, max, cancellationToken);

    public Task<bool> AddCheckoutAsync(PassCheckout checkout, CancellationToken cancellationToken) => inner.AddCheckoutAsync(checkout, cancellationToken);

    public Task<PassCheckout?> GetCheckoutAsync(string sessionId, CancellationToken cancellationToken) => inner.GetCheckoutAsync(sessionId, cancellationToken);

    public Task<IReadOnlyList<PassCheckout>> CheckoutsOpenedBetweenAsync(DateTimeOffset since, DateTimeOffset before, int max, CancellationToken cancellationToken) =>
        inner.CheckoutsOpenedBetweenAsync(since, before, max, cancellationToken);

    public Task<bool> MarkCheckoutPaidAsync(string sessionId, CancellationToken cancellationToken) => inner.MarkCheckoutPaidAsync(sessionId, cancellationToken);

    public Task<bool> DeleteUnpaidCheckoutAsync(string sessionId, CancellationToken cancellationToken) => inner.DeleteUnpaidCheckoutAsync(sessionId, cancellationToken);
}
