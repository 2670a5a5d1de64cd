using X402Serverless.Core.Ledger;
using X402Serverless.Core.Links;
using X402Serverless.Core.Payers;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Money;

namespace X402Serverless.Core.Credits;

/// <summary>
/// Pays calls from balances: a hold before forwarding (allowance first, then the payer's own credits, within every
/// cap), captured to the provider when the upstream's answer is charged, released otherwise.
/// </summary>
public sealed class CreditCharges(ILedger ledger, IPayerStore payers, TimeProvider time, int operatorFeeBasisPoints = 0)
{
    public const string InsufficientCredits = "insufficient_credits";
    public const string CapReached = "spending_cap_reached";
    public const string NotAccepted = "payment_type_not_accepted";

    /// <param name="holdId">The hold's id when the caller chose it (an idempotent call keeps it to look the hold up after a crash).</param>
    public async Task<(CreditHold? Hold, string? Reason)> HoldAsync(Payer payer, PaidLink link, Usd amount, CancellationToken cancellationToken, string? holdId = null)
    {
        var now = time.GetUtcNow();
        var month = Periods.Month(now);
        var id = holdId ?? ledger.NewHoldId(now);
        var common = new List<CapCheck>();
        // Counted for every payer (it is their monthly spend); it limits only when a cap is set.
        common.Add(new CapCheck($"payer-month:{payer.Id}:{month}", amount, payer.MonthlyCap ?? Usd.FromMicros(long.MaxValue / 2)));
        if (link.DailyCapPerPayer is { } daily)
        {
            common.Add(new CapCheck($"link-day:{link.Id}:{payer.Id}:{Periods.Day(now)}", amount, daily));
        }
        var options = new List<(LedgerEntry, IReadOnlyList<CapCheck>)>();
        var sources = new List<string>();
        if (link.Accepts.Contains(PaymentTypes.Allowance) && payer.MonthlyAllowance.IsPositive)
        {
            var caps = new List<CapCheck>(common);
            if (await payers.MonthlyBudgetAsync(payer.OrganisationId, cancellationToken) is { } budget)
            {
                caps.Add(new CapCheck($"org-month:{payer.OrganisationId}:{month}", amount, budget));
            }
            var source = Accounts.Allowance(payer.OrganisationId, payer.Id);
            options.Add((LedgerEntry.Transfer(id, "hold", source, Accounts.Hold(id), amount, link.Id), caps));
            sources.Add(source);
        }
        if (link.Accepts.Contains(PaymentTypes.Credits))
        {
            var source = Accounts.Credits(payer.Id);
            options.Add((LedgerEntry.Transfer(id, "hold", source, Accounts.Hold(id), amount, link.Id), common));
            sources.Add(source);
        }
        if (options.Count == 0)
        {
            return (null, NotAccepted);
        }
        var (index, result) = await ledger.HoldFirstAsync(options, cancellationToken);
        return result switch
        {
            PostResult.Posted => (new CreditHold(id, sources[index], amount, options[index].Item2), null),
            PostResult.CapExceeded => (null, CapReached),
            _ => (null, InsufficientCredits),
        };
    }

    /// <summary>
    /// Pays the held amount to the link's organisation (less the operator's fee); the entry names the link, for usage
    /// figures. False when nothing was paid out: the hold was released meanwhile (a call outliving the stale-hold
    /// sweep); the caller then gives back its counters and withholds the answer.
    /// </summary>
    public async Task<bool> CaptureAsync(CreditHold hold, PaidLink link, CancellationToken cancellationToken)
    {
        var fee = hold.Amount.Share(operatorFeeBasisPoints);
        var legs = new List<Leg> { new(Accounts.Hold(hold.Id), -hold.Amount), new(Accounts.Earnings(link.OrganisationId), hold.Amount - fee) };
        if (fee.IsPositive)
        {
            legs.Add(new Leg(Accounts.OperatorFees, fee));
        }
        var result = await ledger.CaptureHoldAsync(hold.Id, new LedgerEntry($"{hold.Id}:capture", "capture", legs, link.Id), cancellationToken);
        return result is PostResult.Posted or PostResult.Duplicate;
    }

    /// <summary>
    /// Returns money held by calls whose process died before capture or release: a call that never answered is not
    /// charged. Its spend counters stay counted (the call may have run), which errs on the payer's side of a cap.
    /// </summary>
    public Task<int> ReleaseStaleAsync(TimeSpan olderThan, CancellationToken cancellationToken) =>
        ReleaseHeldBeforeAsync(time.GetUtcNow() - olderThan, cancellationToken);

    /// <summary>
    /// Releases every hold placed before <paramref name="before"/>, batch by batch. A hold that cannot be released now
    /// (its release still being posted by its own call) does not hold up the others: the failures are thrown together
    /// after the rest, and the next pass tries those again.
    /// </summary>
    public async Task<int> ReleaseHeldBeforeAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        const int batch = 100;
        var released = 0;
        List<Exception>? failed = null;
        var failedIds = new HashSet<string>(StringComparer.Ordinal);
        while (true)
        {
            var stale = await ledger.StaleHoldsAsync(before, batch, cancellationToken);
            var posted = 0;
            // A hold that failed in this run comes back in every later batch: it is tried once a run.
            foreach (var (holdId, source, amount) in stale.Where(h => !failedIds.Contains(h.HoldId)))
            {
                try
                {
                    if (await ledger.ReleaseHoldAsync(holdId, LedgerEntry.Transfer($"{holdId}:release", "release", Accounts.Hold(holdId), source, amount, "stale"), [], cancellationToken) == PostResult.Posted)
                    {
                        posted++;
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    failedIds.Add(holdId);
                    (failed ??= []).Add(e);
                }
            }
            released += posted;
            // A full batch may have more behind it; a batch that released nothing would only repeat itself.
            if (stale.Count < batch || posted == 0)
            {
                return failed is null ? released : throw new AggregateException($"{failed.Count} stale credit holds could not be released now; {released} were.", failed);
            }
        }
    }

    public async Task ReleaseAsync(CreditHold hold, CancellationToken cancellationToken)
    {
        await ledger.ReleaseHoldAsync(hold.Id, LedgerEntry.Transfer($"{hold.Id}:release", "release", Accounts.Hold(hold.Id), hold.Source, hold.Amount), hold.Caps, cancellationToken);
    }
}
