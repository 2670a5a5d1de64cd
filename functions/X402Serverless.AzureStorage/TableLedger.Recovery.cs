using Azure;
using Azure.Data.Tables;
using X402Serverless.AzureStorage.Tables;
using X402Serverless.Core.Ledger;
using static X402Serverless.AzureStorage.TableLedgerEntities;
using static X402Serverless.AzureStorage.Tables.EntityFields;

namespace X402Serverless.AzureStorage;

// Putting things right: finishing entries a crash left pending (re-applying is safe, each applied part is keyed by
// the entry), taking back a refused entry's applied parts, and returning cap usage the caller gives back.
public sealed partial class TableLedger
{
    /// <summary>Entries one recovery pass takes up at most.</summary>
    internal const int RecoveryBatch = 100;

    /// <summary>How long recovery may work on one entry. Its claim on the entry lasts a minute longer, so another
    /// recovery (another instance) takes the entry up only once this one can send nothing more for it.</summary>
    internal static readonly TimeSpan RecoveryLimit = TimeSpan.FromMinutes(2);

    private static readonly TimeSpan RecoveryClaim = RecoveryLimit + TimeSpan.FromMinutes(1);

    // Where the next pass starts, kept in the entries table (a row no entry has: entries' rows are EntryRow) for every
    // process: a pass goes on after the last entry the one before took up, so entries that keep failing (contended, or
    // a row this version cannot read) never starve those after them, whichever instance runs the next pass.
    private const string CursorPartition = "~recovery";
    private const string CursorRow = "cursor";

    public async Task<int> RecoverAsync(TimeSpan olderThan, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var before = Time(now - (olderThan > MinimumRecoveryAge ? olderThan : MinimumRecoveryAge));
        var after = await _entries.FindAsync(CursorPartition, CursorRow, cancellationToken) is { } cursor ? Str(cursor, "After") : "";
        var filter = TableClient.CreateQueryFilter($"PartitionKey gt {after} and (State eq {Pending} or State eq {Refused}) and CreatedAt lt {before}");
        var journals = await _entries.ListAsync(filter, RecoveryBatch, cancellationToken);
        // A short page reached the end of the table: the next pass starts again from its beginning.
        await _entries.UpsertEntityAsync(new TableEntity(CursorPartition, CursorRow) { ["After"] = journals.Count < RecoveryBatch ? "" : journals[^1].PartitionKey },
            TableUpdateMode.Replace, cancellationToken);
        var recovered = 0;
        List<Exception>? failed = null;
        foreach (var journal in journals)
        {
            // One entry that cannot be finished now does not hold up the others; it stays as it is for a later pass.
            try
            {
                // Each entry's own time: a long pass does not leave the last entries a limit already run out.
                var claimedAt = time.GetUtcNow();
                if (await ClaimAsync(journal, claimedAt, cancellationToken) is not { } claimed)
                {
                    continue; // another recovery has it, or it moved on meanwhile
                }
                var (entry, caps) = (JournaledEntry(journal), JournaledCaps(journal));
                // The ledger's own rule for an entry (a give-back of counters has no legs at all).
                if (entry.Legs.Count > 0 && !entry.IsBalanced)
                {
                    throw new InvalidDataException("Its legs do not balance; it is left as it is.");
                }
                var recoverBy = claimedAt + RecoveryLimit;
                if (Str(journal, "State") == Refused)
                {
                    using var limit = new CancellationTokenSource(Clamp(recoverBy - time.GetUtcNow()), time);
                    using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, limit.Token);
                    await UndoAsync(entry.Key, entry.Legs, caps, onlyPresent: true, claimed, linked.Token); // a take-back cut short
                }
                else
                {
                    await ApplyAsync(entry, caps, journaledAt: null, cancellationToken, recoverBy);
                }
                recovered++;
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                (failed ??= []).Add(new InvalidOperationException($"Ledger entry '{journal.PartitionKey}' could not be finished: {e.Message}", e));
            }
        }
        return failed is null ? recovered : throw new AggregateException($"{failed.Count} ledger entries could not be finished now; {recovered} were.", failed);
    }

    /// <summary>
    /// Takes the entry up for this recovery alone: the journal row, as listed, marked claimed until the claim runs out.
    /// Null when another recovery's claim still runs, or the row changed or went since it was listed. Answers the row's
    /// new ETag, under which a refused entry's row is dropped once taken back.
    /// </summary>
    private async Task<ETag?> ClaimAsync(TableEntity journal, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (OptStr(journal, "ClaimedUntil") is { } until && Time(until) > now)
        {
            return null;
        }
        try
        {
            var claim = new TableEntity(journal.PartitionKey, journal.RowKey) { ["ClaimedUntil"] = Time(now + RecoveryClaim) };
            return (await _entries.UpdateEntityAsync(claim, journal.ETag, TableUpdateMode.Merge, cancellationToken)).Headers.ETag;
        }
        catch (RequestFailedException e) when (e.IsPreconditionFailed() || e.IsNotFound())
        {
            return null;
        }
    }

    /// <summary>
    /// Marks the entry refused, then takes back its parts: should the take-back stop part way, recovery finishes it
    /// rather than replaying the entry, which could then post what its caller was told was refused.
    /// </summary>
    private async Task RefuseAsync(string entryKey, IReadOnlyList<Leg> legs, IReadOnlyList<CapCheck> caps, bool onlyPresent, CancellationToken cancellationToken)
    {
        // The journal row is dropped only as this run marked it: a post of the key that comes after (it may be waiting
        // for this very row to go) is never dropped with it, whatever retries the store's client makes.
        var marked = await SetStateAsync(entryKey, Refused, cancellationToken);
        await UndoAsync(entryKey, legs, caps, onlyPresent, marked, cancellationToken);
    }

    /// <summary>
    /// Posts the release and gives back the counters asked for, unless the call was paid (its capture is journaled).
    /// The give-back is an entry of its own, keyed by the hold, with the counters as negative amounts: it happens once
    /// (the stale sweep's release keeps counters, so the call's own release after it still gives them back, and a
    /// repeat gives nothing). It is journaled before the release and applied after it, so one cut short by a crash or
    /// by contention, or whose release failed, is finished by recovery.
    /// </summary>
    public async Task<PostResult> ReleaseHoldAsync(string holdId, LedgerEntry release, IReadOnlyList<CapCheck> givenBack, CancellationToken cancellationToken)
    {
        var giveBack = new LedgerEntry(holdId + ":giveback", "giveback", []);
        IReadOnlyList<CapCheck> caps = [.. givenBack.Select(c => c with { Amount = -c.Amount })];
        // Not journaled by this call: given back already, or being given back (recovery finishes one cut short).
        var journaledAt = givenBack.Count > 0 && !await EntryExistsAsync(holdId + ":capture", cancellationToken)
            ? (await JournalAsync(giveBack, caps, Guid.NewGuid().ToString("N"), cancellationToken)).JournaledAt
            : null;
        var result = await PostAsync(release, [], cancellationToken);
        if (journaledAt is { } at)
        {
            await ApplyAsync(giveBack, caps, at, cancellationToken);
        }
        return result;
    }

    public async Task UndoCapsAsync(IReadOnlyList<CapCheck> caps, CancellationToken cancellationToken)
    {
        foreach (var cap in caps)
        {
            await InTurnAsync<bool>(_capTurns, cap.Key, async () =>
            {
                _knownCounters.Forget(cap.Key);
                if (await _caps.FindAsync(cap.Key, CounterRow, cancellationToken) is not { } counter)
                {
                    return true; // never counted
                }
                var used = OptLong(counter, "Used") ?? 0;
                try
                {
                    await _caps.UpdateEntityAsync(Counter(cap.Key, Math.Max(0, used - cap.Amount.Micros)), counter.ETag, TableUpdateMode.Replace, cancellationToken);
                    return true;
                }
                catch (RequestFailedException e) when (e.IsPreconditionFailed())
                {
                    return null; // moved by another process
                }
            }, cancellationToken);
        }
    }

    // Takes back applied legs and caps (each with its marker), then drops the journal entry so the key is free again.
    // Should a take-back keep losing to other processes it throws, and the entry stays for RecoverAsync.
    // onlyPresent: parts that may never have been applied are looked for first, so no row is written for them.
    // journal: the journal row's ETag as the undoer read or marked it, so a row written anew under the key since is not
    // dropped; null leaves the row be.
    private async Task UndoAsync(string entryKey, IReadOnlyList<Leg> legs, IReadOnlyList<CapCheck> caps, bool onlyPresent, ETag? journal,
        CancellationToken cancellationToken)
    {
        foreach (var leg in legs)
        {
            await InTurnAsync<bool>(_accountTurns, leg.Account, async () =>
            {
                if (onlyPresent && await _accounts.FindAsync(leg.Account, PostingRow(entryKey), cancellationToken) is null)
                {
                    return true; // not applied
                }
                _knownBalances.Forget(leg.Account);
                var row = await BalanceRowAsync(leg.Account, cancellationToken);
                return await TakeBackAsync(_accounts, Balance(leg.Account, row.Value - leg.Amount.Micros, row.Floor), row.ETag, PostingRow(entryKey), cancellationToken);
            }, cancellationToken);
        }
        foreach (var cap in caps)
        {
            await InTurnAsync<bool>(_capTurns, cap.Key, async () =>
            {
                if (onlyPresent && await _caps.FindAsync(cap.Key, CapMarkerRow(entryKey), cancellationToken) is null)
                {
                    return true; // not counted
                }
                _knownCounters.Forget(cap.Key);
                if (await _caps.FindAsync(cap.Key, CounterRow, cancellationToken) is not { } counter)
                {
                    return true;
                }
                return await TakeBackAsync(_caps, Counter(cap.Key, Math.Max(0, (OptLong(counter, "Used") ?? 0) - cap.Amount.Micros)), counter.ETag,
                    CapMarkerRow(entryKey), cancellationToken);
            }, cancellationToken);
        }
        if (journal is not { } read)
        {
            return; // the row was gone already when marked: nothing of this entry's to drop
        }
        try
        {
            await _entries.DeleteEntityAsync(entryKey, EntryRow, read, cancellationToken);
        }
        catch (RequestFailedException e) when (e.IsPreconditionFailed() || e.IsNotFound())
        {
            // the key was posted anew meanwhile (that row is not this take-back's), or a retried delete finds it gone
        }
    }

    /// <summary>
    /// One part taken back in one entity group transaction: its balance or counter row rewritten under the ETag read, and
    /// the row marking the part applied (<paramref name="markerRow"/>, in the same partition) deleted. Null when the row
    /// moved meanwhile (try again); true when done, or when the marker is gone (taken back already).
    /// </summary>
    private static async Task<bool?> TakeBackAsync(TableClient table, TableEntity row, ETag etag, string markerRow, CancellationToken cancellationToken)
    {
        try
        {
            await table.SubmitTransactionAsync(
            [
                new TableTransactionAction(TableTransactionActionType.UpdateReplace, row, etag),
                new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(row.PartitionKey, markerRow), ETag.All),
            ], cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.IsPreconditionFailed())
        {
            return null; // moved by another process
        }
        catch (RequestFailedException e) when (e.IsNotFound())
        {
            return true; // already taken back
        }
    }
}
