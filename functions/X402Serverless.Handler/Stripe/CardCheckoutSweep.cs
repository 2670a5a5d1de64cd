using Microsoft.Extensions.Options;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Stripe;
using X402Serverless.Handler.Hosting;

namespace X402Serverless.Handler.Stripe;

/// <summary>
/// Forgets card checkouts (top-ups and passes) that never credited anything: at once when Stripe's signed
/// <c>checkout.session.expired</c> says so (an expired session can no longer be paid), and in the maintenance pass for
/// records older than <see cref="StripeOptions.CheckoutRetentionDays"/> (at least 14 days) whose event never came. A
/// checkout that was paid is always kept: refunds and disputes find it through it. Fulfilment marks the record paid before
/// it credits anything, and the store deletes only an unmarked record in the same step as that check (SQLite: one
/// statement; Table Storage: If-Match on the ETag it read), so a payment arriving mid-sweep keeps it; a record forgotten
/// first is not credited (a completion for it is logged for a refund). Records credited before the mark existed are
/// kept by their ledger entry, checked first. A completion for a forgotten session later is handled as any unrecorded session: nothing is credited
/// and it is logged with the session id for a refund (<see cref="UnrecordedCheckouts"/>).
/// </summary>
internal sealed partial class CardCheckoutSweep(ICardTopUpStore topUps, IPassStore passes, ILedger ledger, StripeCheckoutClient stripe,
    IOptions<StripeOptions> options, TimeProvider time, ILogger<CardCheckoutSweep> logger) : IExpiredCheckouts
{
    private const int Page = 200;

    /// <summary>How far back one pass looks past the retention: records older still were looked at by earlier passes.</summary>
    private static readonly TimeSpan Window = TimeSpan.FromDays(7);

    public async Task<string> ForgetAsync(string sessionId, CancellationToken cancellationToken)
    {
        if (await ledger.EntryExistsAsync(CardTopUpFulfilment.PaymentRefFor(sessionId), cancellationToken))
        {
            return "expired_but_credited"; // cannot happen for a session Stripe expired; kept, whatever the event says
        }
        if (await topUps.DeleteUnpaidAsync(sessionId, cancellationToken))
        {
            return "topup_expired";
        }
        return await passes.DeleteUnpaidCheckoutAsync(sessionId, cancellationToken) ? "pass_checkout_expired" : "not_recorded";
    }

    /// <summary>Forgets old checkouts that credited nothing; how many.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        if (!stripe.Configured)
        {
            return 0; // no checkouts are opened here
        }
        var before = time.GetUtcNow() - TimeSpan.FromDays(Math.Max(StripeOptions.MinCheckoutRetentionDays, options.Value.CheckoutRetentionDays));
        var forgotten = 0;
        forgotten += await SweepAsync(before, (since, max) => topUps.OpenedBetweenAsync(since, before, max, cancellationToken),
            t => (t.SessionId, t.CreatedAt), id => topUps.DeleteUnpaidAsync(id, cancellationToken), cancellationToken);
        forgotten += await SweepAsync(before, (since, max) => passes.CheckoutsOpenedBetweenAsync(since, before, max, cancellationToken),
            c => (c.SessionId, c.CreatedAt), id => passes.DeleteUnpaidCheckoutAsync(id, cancellationToken), cancellationToken);
        if (forgotten > 0)
        {
            Swept(logger, forgotten);
        }
        return forgotten;
    }

    private async Task<int> SweepAsync<T>(DateTimeOffset before, Func<DateTimeOffset, int, Task<IReadOnlyList<T>>> list, Func<T, (string Id, DateTimeOffset At)> key,
        Func<string, Task<bool>> delete, CancellationToken cancellationToken)
    {
        var since = before - Window;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var forgotten = 0;
        while (true)
        {
            var page = await list(since, Page);
            var fresh = page.Select(key).Where(k => seen.Add(k.Id)).ToList();
            foreach (var (id, _) in fresh)
            {
                if (!await ledger.EntryExistsAsync(CardTopUpFulfilment.PaymentRefFor(id), cancellationToken) && await delete(id))
                {
                    forgotten++;
                }
            }
            if (page.Count < Page || fresh.Count == 0)
            {
                return forgotten;
            }
            since = key(page[^1]).At; // inclusive: a record sharing the last one's time is not skipped (seen ones are)
        }
    }

    [LoggerMessage(148, LogLevel.Information, "Forgot {Count} card checkouts that were never paid.")]
    private static partial void Swept(ILogger logger, int count);
}
