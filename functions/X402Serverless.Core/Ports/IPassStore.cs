using X402Serverless.Core.Passes;

namespace X402Serverless.Core.Ports;

/// <summary>Passes links sold, the card checkouts selling them, and the sign-in-with-x nonces already spent on them.</summary>
public interface IPassStore
{
    /// <summary>Stores a newly issued pass; false (nothing changed) when a pass with its id exists already.</summary>
    Task<bool> AddAsync(Pass pass, CancellationToken cancellationToken);

    Task<Pass?> GetAsync(string linkId, string id, CancellationToken cancellationToken);

    /// <summary>A link's passes, newest first, at most <paramref name="max"/>.</summary>
    Task<IReadOnlyList<Pass>> ListForLinkAsync(string linkId, int max, CancellationToken cancellationToken);

    /// <summary>One holder's passes (on one link when <paramref name="linkId"/> is set), newest first, at most <paramref name="max"/>.</summary>
    Task<IReadOnlyList<Pass>> ListForHolderAsync(string holder, string? linkId, int max, CancellationToken cancellationToken);

    /// <summary>
    /// Revokes the link's pass at <paramref name="at"/> for <paramref name="reason"/> (<see cref="PassRevocations"/>); false
    /// when it does not exist or was revoked already (the first revocation's time and reason stay).
    /// </summary>
    Task<bool> RevokeAsync(string linkId, string id, DateTimeOffset at, string reason, CancellationToken cancellationToken);

    /// <summary>
    /// Takes one call from the holder's usable pass on the link (not revoked, not expired at <paramref name="now"/>,
    /// a call left; the one ending soonest first) and returns it with that call taken; null when none is usable. Of
    /// concurrent spends of a pass's last call exactly one succeeds. A pass counting calls records the spend under
    /// <paramref name="spendId"/> in the same atomic write, until it is concluded or given back: a spend sent again (its
    /// answer lost) takes nothing more, and a spend its call never concluded (a crash) is found by
    /// <see cref="StaleSpendsAsync"/>.
    /// </summary>
    Task<Pass?> TrySpendAsync(string linkId, string holder, DateTimeOffset now, string spendId, CancellationToken cancellationToken);

    /// <summary>
    /// Keeps the call a spend took (the call is charged): its record goes. True when kept (now, or before); false when
    /// it was given back (the stale sweep took back a call that outlived it), so the call is not paid.
    /// </summary>
    Task<bool> ConcludeSpendAsync(string linkId, string spendId, CancellationToken cancellationToken);

    /// <summary>
    /// Gives back the call a spend took (the call failed upstream, or never answered), once: the call and the spend's
    /// mark as given back in one atomic write (the mark is kept a while, so a later conclusion is refused). False when it
    /// was kept or given back before.
    /// </summary>
    Task<bool> GiveBackSpendAsync(string linkId, string spendId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>What became of a spend: still taken, given back, or kept (no record: concluded, or never recorded).</summary>
    Task<SpendState> SpendStateAsync(string linkId, string spendId, CancellationToken cancellationToken);

    /// <summary>Spends recorded before <paramref name="before"/> and still taken (neither kept nor given back), oldest first, at most <paramref name="max"/>.</summary>
    Task<IReadOnlyList<(string LinkId, string SpendId)>> StaleSpendsAsync(DateTimeOffset before, int max, CancellationToken cancellationToken);

    /// <summary>Forgets up to <paramref name="max"/> marks of spends given back before <paramref name="before"/>; how many went.</summary>
    Task<int> ForgetGivenBackSpendsAsync(DateTimeOffset before, int max, CancellationToken cancellationToken);

    /// <summary>
    /// Gives back one call of the link's pass <paramref name="passId"/>, once per <paramref name="key"/> (e.g. an inbox
    /// message whose delivery failed): the key is recorded with the call in one atomic write, so a repeat or a
    /// concurrent twin gives nothing. True when this call recorded the key (a pass without a call count, or one gone,
    /// gets only the record); false when the key was recorded before.
    /// </summary>
    Task<bool> GiveBackOnceAsync(string linkId, string passId, string key, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Records a sign-in-with-x nonce as used until <paramref name="keepUntil"/>; false when it was used before.</summary>
    Task<bool> UseNonceAsync(string nonce, DateTimeOffset keepUntil, CancellationToken cancellationToken);

    /// <summary>Deletes up to <paramref name="max"/> nonces kept until before <paramref name="now"/>; how many went.</summary>
    Task<int> DeleteExpiredNoncesAsync(DateTimeOffset now, int max, CancellationToken cancellationToken);

    /// <summary>Records a card checkout opened for a pass; false (nothing changed) when its session is recorded already.</summary>
    Task<bool> AddCheckoutAsync(PassCheckout checkout, CancellationToken cancellationToken);

    /// <summary>The card checkout of a Stripe Checkout Session, or null when the gateway opened none for a pass.</summary>
    Task<PassCheckout?> GetCheckoutAsync(string sessionId, CancellationToken cancellationToken);

    /// <summary>Card checkouts opened at or after <paramref name="since"/> and before <paramref name="before"/>, oldest first, at most <paramref name="max"/>.</summary>
    Task<IReadOnlyList<PassCheckout>> CheckoutsOpenedBetweenAsync(DateTimeOffset since, DateTimeOffset before, int max, CancellationToken cancellationToken);

    /// <summary>Marks a pass checkout paid before its pass is issued or anything posted (see <see cref="ICardTopUpStore.MarkPaidAsync"/>).</summary>
    Task<bool> MarkCheckoutPaidAsync(string sessionId, CancellationToken cancellationToken);

    /// <summary>Forgets a pass checkout that was never paid, atomically with that check (see <see cref="ICardTopUpStore.DeleteUnpaidAsync"/>).</summary>
    Task<bool> DeleteUnpaidCheckoutAsync(string sessionId, CancellationToken cancellationToken);
}
