using X402Serverless.Core.Ledger;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Money;

namespace X402Serverless.Core.Credits;

/// <summary>
/// The monthly allowance grant: for each member, unspent allowance returns to the organisation's pool and this
/// month's allowance is granted from it, as one entry keyed by (period, member). Running it twice, or late, grants
/// once; a pool that cannot cover a grant grants what it holds.
/// </summary>
public sealed class AllowanceReset(ILedger ledger, IPayerStore payers)
{
    private const int SweepAttempts = 5;

    public async Task<int> RunAsync(string period, CancellationToken cancellationToken)
    {
        var granted = 0;
        List<Exception>? failed = null;
        foreach (var organisationId in await payers.OrganisationsWithAllowancesAsync(cancellationToken))
        {
            // Each organisation and each member on its own: one whose rows are busy now does not keep the others from
            // this month's grant.
            IEnumerable<Payers.Payer> members;
            try
            {
                members = (await payers.ListAsync(organisationId, cancellationToken)).Where(p => p.MonthlyAllowance.IsPositive);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                (failed ??= []).Add(new InvalidOperationException($"Members of {organisationId}: {e.Message}", e));
                continue;
            }
            foreach (var member in members)
            {
                try
                {
                    if (await GrantAsync(organisationId, member.Id, member.MonthlyAllowance, period, cancellationToken))
                    {
                        granted++;
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    (failed ??= []).Add(new InvalidOperationException($"Member {member.Id} of {organisationId}: {e.Message}", e));
                }
            }
        }
        // Failed after the others ran, so the run is seen to fail; the next run grants those once.
        return failed is null ? granted : throw new AggregateException($"The allowance reset for {period} granted {granted}, and could not grant {failed.Count} now.", failed);
    }

    private async Task<bool> GrantAsync(string organisationId, string payerId, Usd monthly, string period, CancellationToken cancellationToken)
    {
        var key = $"reset:{period}:{organisationId}:{payerId}";
        var allowance = Accounts.Allowance(organisationId, payerId);
        var pool = Accounts.Pool(organisationId);
        // The period's order, kept by a counter under the same key that both entries count, checked with them: the sweep
        // counts 1 and needs it at 0, the grant counts 2 and needs it at most 1. A sweep that would come after the grant
        // (read by a run at the same time, before a call spent exactly what was left and the other run, finding nothing
        // to sweep, granted) is refused, rather than taking back part of the fresh grant.
        IReadOnlyList<CapCheck> sweepOrder = [new CapCheck(key, Usd.FromMicros(1), Usd.FromMicros(1))];
        IReadOnlyList<CapCheck> grantOrder = [new CapCheck(key, Usd.FromMicros(2), Usd.FromMicros(3))];

        // Two entries, each once per period: last month's unspent allowance back to the pool, then this month's grant.
        // Once the grant exists the period is done; nothing may sweep what it granted.
        if (await ledger.EntryExistsAsync(key + ":grant", cancellationToken))
        {
            return false;
        }
        if (!await ledger.EntryExistsAsync(key + ":sweep", cancellationToken))
        {
            // A call paid from the allowance between the read and the sweep leaves less than was read, and the sweep is
            // refused: read again, or last month's unspent allowance would stay with the member on top of the new grant.
            // A sweep posted meanwhile by another run answers Duplicate, which ends the loop too.
            for (var attempt = 0; attempt < SweepAttempts; attempt++)
            {
                var left = await ledger.BalanceAsync(allowance, cancellationToken);
                // Looked for after the balance is read: a balance read while no grant existed holds no grant of this
                // period, so a run at the same time (another instance) does not have its fresh grant swept back. One
                // granting between this check and the sweep has the sweep refused by their order (above).
                if (await ledger.EntryExistsAsync(key + ":grant", cancellationToken))
                {
                    return false;
                }
                if (!left.IsPositive
                    || await ledger.PostAsync(LedgerEntry.Transfer(key + ":sweep", "allowance-sweep", allowance, pool, left, period), sweepOrder, cancellationToken) != PostResult.Insufficient)
                {
                    break;
                }
            }
        }
        for (var attempt = 0; attempt < 3 && !await ledger.EntryExistsAsync(key + ":grant", cancellationToken); attempt++)
        {
            var available = await ledger.BalanceAsync(pool, cancellationToken);
            var grant = monthly < available ? monthly : available;
            if (!grant.IsPositive)
            {
                return false; // an empty pool grants nothing now; a run after it is funded grants once
            }
            if (await ledger.PostAsync(LedgerEntry.Transfer(key + ":grant", "allowance-grant", pool, allowance, grant, period), grantOrder, cancellationToken) == PostResult.Posted)
            {
                return true;
            }
        }
        return false;
    }
}
