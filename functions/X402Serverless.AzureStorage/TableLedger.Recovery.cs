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
    public async Task<int> RecoverAsync(TimeSpan olderThan, CancellationToken cancellationToken)
    {
        var before = Time(time.GetUtcNow() - olderThan);
        var recovered = 0;
        foreach (var pending in await _entries.ListAsync(TableClient.CreateQueryFilter($"State eq {Pending} and CreatedAt lt {before}"), 100, cancellationToken))
        {
            var entry = JournaledEntry(pending);
            var caps = JournaledCaps(pending);
            await ApplyAsync(entry, caps, cancellationToken);
            recovered++;
        }
        return recovered;
    }

    public async Task UndoCapsAsync(IReadOnlyList<CapCheck> caps, CancellationToken cancellationToken)
    {
        foreach (var cap in caps)
        {
            for (var attempt = 0; attempt < MaxAttempts; attempt++)
            {
                // In turn with the calls counting on this cap, which would otherwise move it between every read and write;
                // lost to another process, it backs off as a count does, rather than giving the count back never.
                if (attempt > 0)
                {
                    await BackOffAsync(attempt, cancellationToken);
                }
                using (await _capTurns.EnterAsync(cap.Key, cancellationToken))
                {
                    if (await _caps.FindAsync(cap.Key, CounterRow, cancellationToken) is not { } counter)
                    {
                        break;
                    }
                    var used = OptLong(counter, "Used") ?? 0;
                    try
                    {
                        await _caps.UpdateEntityAsync(Counter(cap.Key, Math.Max(0, used - cap.Amount.Micros)), counter.ETag, TableUpdateMode.Replace, cancellationToken);
                        break;
                    }
                    catch (RequestFailedException e) when (e.IsPreconditionFailed())
                    {
                        // moved meanwhile (another process): read again
                    }
                }
            }
        }
    }

    // Takes back applied legs and caps (each with its marker), then drops the journal entry so the key is free again.
    private async Task UndoAsync(string entryKey, IReadOnlyList<Leg> legs, IReadOnlyList<CapCheck> caps, CancellationToken cancellationToken)
    {
        foreach (var leg in legs)
        {
            for (var attempt = 0; attempt < MaxAttempts; attempt++)
            {
                using (await _accountTurns.EnterAsync(leg.Account, cancellationToken))
                {
                    var (balance, etag, floor) = await BalanceEntityAsync(leg.Account, cancellationToken);
                    try
                    {
                        await _accounts.SubmitTransactionAsync(
                        [
                            new TableTransactionAction(TableTransactionActionType.UpdateReplace, Balance(leg.Account, balance - leg.Amount.Micros, floor), etag),
                            new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(leg.Account, PostingRow(entryKey)), ETag.All),
                        ], cancellationToken);
                        break;
                    }
                    catch (RequestFailedException e) when (e.IsPreconditionFailed())
                    {
                        // moved by another process: below, outside the turn
                    }
                    catch (RequestFailedException e) when (e.IsNotFound())
                    {
                        break; // already taken back
                    }
                }
                await BackOffAsync(attempt, cancellationToken);
            }
        }
        foreach (var cap in caps)
        {
            for (var attempt = 0; attempt < MaxAttempts; attempt++)
            {
                using (await _capTurns.EnterAsync(cap.Key, cancellationToken))
                {
                    var counter = await _caps.FindAsync(cap.Key, CounterRow, cancellationToken);
                    if (counter is null)
                    {
                        break;
                    }
                    try
                    {
                        await _caps.SubmitTransactionAsync(
                        [
                            new TableTransactionAction(TableTransactionActionType.UpdateReplace, Counter(cap.Key, Math.Max(0, (OptLong(counter, "Used") ?? 0) - cap.Amount.Micros)), counter.ETag),
                            new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(cap.Key, CapMarkerRow(entryKey)), ETag.All),
                        ], cancellationToken);
                        break;
                    }
                    catch (RequestFailedException e) when (e.IsPreconditionFailed())
                    {
                        // moved by another process: below, outside the turn
                    }
                    catch (RequestFailedException e) when (e.IsNotFound())
                    {
                        break;
                    }
                }
                await BackOffAsync(attempt, cancellationToken);
            }
        }
        await _entries.DeleteEntityAsync(entryKey, EntryRow, ETag.All, cancellationToken);
    }
}
