using Azure;
using Azure.Data.Tables;
using X402Serverless.AzureStorage.Tables;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Ports;
using static X402Serverless.AzureStorage.TableLedgerEntities;
using static X402Serverless.AzureStorage.Tables.EntityFields;

namespace X402Serverless.AzureStorage;

// Applying a journaled entry: caps, then legs, each in its own partition as an ETag-checked entity group transaction
// (balance or counter replaced, posting or marker added). The added row's key is the entry key, so a retry that finds
// it already there knows that part is done rather than applying it twice; "already there" is read, never inferred
// from a failed changeset's status.
public sealed partial class TableLedger
{
    /// <param name="journaledAt">When a live run journaled the entry; null for recovery replaying it, where a refusal then
    /// takes back every part still there, as an earlier run may have applied parts this one did not reach.</param>
    /// <param name="recoverBy">For recovery: the time by which it sends nothing more for the entry (within its claim).</param>
    private async Task<PostResult> ApplyAsync(LedgerEntry entry, IReadOnlyList<CapCheck> caps, DateTimeOffset? journaledAt, CancellationToken cancellationToken,
        DateTimeOffset? recoverBy = null)
    {
        var replayed = journaledAt is null;
        // A live run sends nothing past LiveApplyLimit from its journal's time, refusal's take-back included, and recovery
        // takes up no entry younger than MinimumRecoveryAge: the two never work on one entry at once. Recovery likewise
        // stops within its claim on the entry, so two recoveries never do either.
        var deadline = journaledAt + LiveApplyLimit ?? recoverBy;
        using var limit = deadline is { } by ? new CancellationTokenSource(Clamp(by - time.GetUtcNow()), time) : null;
        using var linked = limit is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, limit.Token);
        var token = linked?.Token ?? cancellationToken;
        void WithinLimit()
        {
            // The timer alone could fire late (a starved pool, a paused VM): the clock is read before each part too.
            token.ThrowIfCancellationRequested();
            if (time.GetUtcNow() > deadline)
            {
                limit!.Cancel();
                token.ThrowIfCancellationRequested();
            }
        }
        // Once refused, the take-back runs on even if the caller has gone; only the limit stops it (recovery then finishes it).
        var refusal = limit?.Token ?? cancellationToken;
        try
        {
            var appliedCaps = new List<CapCheck>();
            foreach (var cap in caps)
            {
                WithinLimit();
                var result = await ApplyCapAsync(cap, entry.Key, token);
                if (result == Applied.Refused)
                {
                    await RefuseAsync(entry.Key, replayed ? entry.Legs : [], replayed ? caps : appliedCaps, replayed, refusal);
                    return PostResult.CapExceeded;
                }
                appliedCaps.Add(cap);
            }
            var appliedLegs = new List<Leg>();
            // Debits first: a refused debit then has nothing credited to take back.
            foreach (var leg in entry.Legs.OrderBy(l => l.Amount))
            {
                WithinLimit();
                var result = await ApplyLegAsync(leg, entry, token);
                if (result == Applied.Refused)
                {
                    await RefuseAsync(entry.Key, replayed ? entry.Legs : appliedLegs, appliedCaps, replayed, refusal);
                    return PostResult.Insufficient;
                }
                appliedLegs.Add(leg);
            }
            // Every part is in, so nothing can refuse the entry now: marked posted even past the limit.
            await SetStateAsync(entry.Key, Posted, cancellationToken);
            return PostResult.Posted;
        }
        catch (OperationCanceledException) when (limit is { IsCancellationRequested: true } && !cancellationToken.IsCancellationRequested)
        {
            throw new RowContendedException($"Entry {entry.Key} took longer than its time to apply; it stays journaled and recovery finishes it.");
        }
    }

    private static TimeSpan Clamp(TimeSpan left) => left > TimeSpan.Zero ? left : TimeSpan.Zero;

    private async Task<Applied> ApplyLegAsync(Leg leg, LedgerEntry entry, CancellationToken cancellationToken)
    {
        if (Accounts.IsHold(leg.Account) && leg.Amount.IsPositive)
        {
            // A hold's account is new with its call: created by its first leg in one change, with no read before it
            // (two round trips fewer per call). Already there (a replayed entry), it is applied as any other leg.
            try
            {
                var created = await _accounts.SubmitTransactionAsync(
                [
                    new TableTransactionAction(TableTransactionActionType.Add, Balance(leg.Account, leg.Amount.Micros, 0)),
                    new TableTransactionAction(TableTransactionActionType.Add, PostingEntity(leg, entry, time.GetUtcNow())),
                ], cancellationToken);
                _knownBalances.Remember(leg.Account, leg.Amount.Micros, 0, created.Value[0].Headers.ETag);
                return Applied.Done;
            }
            catch (RequestFailedException e) when (e.IsConflict())
            {
            }
        }
        return await InTurnAsync<Applied>(_accountTurns, leg.Account, async () =>
        {
            bool Refuses(KnownRow balance) => leg.Amount.Micros < 0 && balance.Value + leg.Amount.Micros < balance.Floor;
            var row = await _knownBalances.ForChangeAsync(leg.Account, () => BalanceRowAsync(leg.Account, cancellationToken), Refuses);
            var next = row.Value + leg.Amount.Micros;
            if (Refuses(row))
            {
                return await _accounts.FindAsync(leg.Account, PostingRow(entry.Key), cancellationToken) is null ? Applied.Refused : Applied.AlreadyDone;
            }
            try
            {
                var written = await _accounts.SubmitTransactionAsync(
                [
                    new TableTransactionAction(TableTransactionActionType.UpdateReplace, Balance(leg.Account, next, row.Floor), row.ETag),
                    new TableTransactionAction(TableTransactionActionType.Add, PostingEntity(leg, entry, time.GetUtcNow())),
                ], cancellationToken);
                // A hold's account emptied by its capture or release is done with: not kept in memory.
                if (Accounts.IsHold(leg.Account) && next == 0)
                {
                    _knownBalances.Forget(leg.Account);
                }
                else
                {
                    _knownBalances.Remember(leg.Account, next, row.Floor, written.Value[0].Headers.ETag);
                }
                return Applied.Done;
            }
            catch (RequestFailedException e) when (e.IsConflict() || e.IsPreconditionFailed())
            {
                _knownBalances.Forget(leg.Account);
                // Only the posting row proves the leg is in: a failed changeset's status alone does not say which
                // action failed, and a lost ETag race taken for "already applied" would drop the leg.
                return e.IsConflict() && await _accounts.FindAsync(leg.Account, PostingRow(entry.Key), cancellationToken) is not null
                    ? Applied.AlreadyDone
                    : null;
            }
        }, cancellationToken);
    }

    private Task<Applied> ApplyCapAsync(CapCheck cap, string entryKey, CancellationToken cancellationToken) =>
        InTurnAsync<Applied>(_capTurns, cap.Key, async () =>
        {
            // A negative amount gives use back (a released call's): never refused, and never below nothing.
            bool Refuses(KnownRow counter) => cap.Amount.IsPositive && counter.Value + cap.Amount.Micros > cap.Limit.Micros;
            var counter = await _knownCounters.ForChangeAsync(cap.Key, () => CounterRowAsync(cap.Key, cancellationToken), Refuses);
            if (Refuses(counter))
            {
                return await _caps.FindAsync(cap.Key, CapMarkerRow(entryKey), cancellationToken) is null ? Applied.Refused : Applied.AlreadyDone;
            }
            var used = Math.Max(0, counter.Value + cap.Amount.Micros);
            try
            {
                var written = await _caps.SubmitTransactionAsync(
                [
                    new TableTransactionAction(TableTransactionActionType.UpdateReplace, Counter(cap.Key, used), counter.ETag),
                    new TableTransactionAction(TableTransactionActionType.Add, CapMarker(cap, entryKey)),
                ], cancellationToken);
                _knownCounters.Remember(cap.Key, used, 0, written.Value[0].Headers.ETag);
                return Applied.Done;
            }
            catch (RequestFailedException e) when (e.IsConflict() || e.IsPreconditionFailed())
            {
                _knownCounters.Forget(cap.Key);
                // As for a leg: only the marker row proves the cap is counted; otherwise the counter moved, so retry.
                return e.IsConflict() && await _caps.FindAsync(cap.Key, CapMarkerRow(entryKey), cancellationToken) is not null
                    ? Applied.AlreadyDone
                    : null;
            }
        }, cancellationToken);

    /// <summary>A cap's counter row as stored, created at zero on its first use.</summary>
    private async Task<KnownRow> CounterRowAsync(string key, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            if (await _caps.FindAsync(key, CounterRow, cancellationToken) is { } found)
            {
                return new KnownRow(OptLong(found, "Used") ?? 0, 0, found.ETag, Remembered: false);
            }
            try
            {
                var created = await _caps.AddEntityAsync(Counter(key, 0), cancellationToken);
                if (created.Headers.ETag is { } etag)
                {
                    return new KnownRow(0, 0, etag, Remembered: false);
                }
            }
            catch (RequestFailedException e) when (e.IsConflict())
            {
                // created concurrently: read it
            }
        }
        throw new RequestFailedException(409, $"Counter {key} could not be read.", "EntityAlreadyExists", null);
    }

    /// <summary>Marks the entry's state; answers the journal row's new ETag, or null when the row is gone (undone meanwhile).</summary>
    private async Task<ETag?> SetStateAsync(string entryKey, string state, CancellationToken cancellationToken)
    {
        try
        {
            // Merged: the state alone changes, in one round trip with no read before it.
            var merged = await _entries.UpdateEntityAsync(new TableEntity(entryKey, EntryRow) { ["State"] = state }, ETag.All, TableUpdateMode.Merge, cancellationToken);
            return merged.Headers.ETag;
        }
        catch (RequestFailedException e) when (e.IsNotFound())
        {
            return null; // dropped meanwhile (undone): nothing to mark
        }
    }
}
