using Azure;
using Azure.Data.Tables;
using X402Serverless.AzureStorage.Tables;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Ports;
using static X402Serverless.AzureStorage.TableLedgerEntities;
using static X402Serverless.AzureStorage.Tables.EntityFields;

namespace X402Serverless.AzureStorage;

/// <summary>
/// The ledger on Table Storage, where a transaction cannot span partitions. Each entry is journaled first (its key is
/// the idempotency guard), then applied account by account: in each account's partition one entity group transaction
/// moves the balance (ETag-checked, floor enforced) and writes the posting, whose row key is the entry key, so a leg can
/// never apply twice. A refused leg or cap marks the entry refused, undoes what was applied and drops the journal entry;
/// an entry a crash (or the live run's time limit) left pending or refused is finished by <see cref="RecoverAsync"/>.
/// Readers may see an entry half-applied for that moment only.
/// </summary>
/// <remarks>
/// Split by concern: this file journals; TableLedger.Posting applies legs and caps; TableLedger.Turns changes one row in
/// its turn, retrying; TableLedger.Accounts reads and
/// creates balance rows; TableLedger.Recovery undoes and finishes entries; TableLedger.Queries reads;
/// <see cref="TableLedgerEntities"/> holds the stored row shapes.
/// </remarks>
public sealed partial class TableLedger(TableServiceClient service, TimeProvider time, string entriesTable = "ledgerentries", string accountsTable = "ledgeraccounts", string capsTable = "ledgercaps") : ILedger
{
    private readonly TableClient _entries = service.GetTableClient(entriesTable);
    private readonly TableClient _accounts = service.GetTableClient(accountsTable);
    private readonly TableClient _caps = service.GetTableClient(capsTable);
    private readonly RowGates _accountTurns = new();
    private readonly RowGates _capTurns = new();

    // What this process last wrote of its hot balance and counter rows: a change in the row's turn skips its read.
    private readonly KnownRows _knownBalances = new();
    private readonly KnownRows _knownCounters = new();

    /// <summary>How long a live run may apply an entry; past it the entry is left to recovery.</summary>
    public static readonly TimeSpan LiveApplyLimit = TimeSpan.FromMinutes(2);

    /// <summary>How old a journaled entry must be, whatever the caller asks, before recovery takes it up: past any live run.</summary>
    private static readonly TimeSpan MinimumRecoveryAge = LiveApplyLimit + TimeSpan.FromMinutes(1);

    private enum Applied
    {
        Done,
        AlreadyDone,
        Refused,
    }

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await _entries.CreateIfNotExistsAsync(cancellationToken);
        await _accounts.CreateIfNotExistsAsync(cancellationToken);
        await _caps.CreateIfNotExistsAsync(cancellationToken);
    }

    public async Task<PostResult> PostAsync(LedgerEntry entry, IReadOnlyList<CapCheck> caps, CancellationToken cancellationToken)
    {
        if (!entry.IsBalanced)
        {
            throw new ArgumentException($"Entry {entry.Key} does not balance.", nameof(entry));
        }
        // This post's mark on the journal row it writes (see JournalAsync).
        var run = Guid.NewGuid().ToString("N");
        for (var attempt = 1; ; attempt++)
        {
            var (journaledAt, other) = await JournalAsync(entry, caps, run, cancellationToken);
            if (journaledAt is { } at)
            {
                return await ApplyAsync(entry, caps, at, cancellationToken);
            }
            var state = other is null ? null : Str(other, "State");
            if (state == Posted)
            {
                return PostResult.Duplicate;
            }
            // No row: the key is free again, so this post journals anew (bounded, should rows keep coming and going).
            if (attempt < PendingWaits || (other is null && attempt < 2 * PendingWaits))
            {
                // Another post of this key is applying it, may yet be refused, or was refused and is being taken back:
                // its outcome decides this one's, so wait for it (usually a few round trips).
                if (other is not null || attempt > 1)
                {
                    await BackOffAsync(attempt, cancellationToken);
                }
                continue;
            }
            // Never Duplicate for what did not post: "not now", and recovery ends the other post in a few minutes.
            throw new RowContendedException(state == Refused
                ? $"Entry {entry.Key} was refused and is still being taken back; post it again in a few minutes."
                : $"Entry {entry.Key} is still being posted by another run (or by recovery, should that run have stopped); post it again in a few minutes.");
        }
    }

    /// <summary>How many times a post waits for another post of its key to end before it answers "not now" (about 4–5 s).</summary>
    private const int PendingWaits = 40;

    /// <summary>
    /// Journals the entry under its key. Answers its journal time when this call wrote the row, also when the write's
    /// answer was lost and the SDK's retry then met the row it had written (told by the run's mark); otherwise the row
    /// another post left under the key, or neither when that row is gone already.
    /// </summary>
    private async Task<(DateTimeOffset? JournaledAt, TableEntity? Other)> JournalAsync(LedgerEntry entry, IReadOnlyList<CapCheck> caps, string run, CancellationToken cancellationToken)
    {
        var journaledAt = time.GetUtcNow();
        try
        {
            await _entries.AddEntityAsync(Journal(entry, caps, journaledAt, run), cancellationToken);
            return (journaledAt, null);
        }
        catch (RequestFailedException e) when (e.IsConflict())
        {
            var found = await _entries.FindAsync(entry.Key, EntryRow, cancellationToken);
            return found is not null && OptStr(found, "Run") == run && Str(found, "State") == Pending ? (journaledAt, null) : (null, found);
        }
    }

    public async Task<(int Index, PostResult Result)> PostFirstAsync(IReadOnlyList<(LedgerEntry Entry, IReadOnlyList<CapCheck> Caps)> options, CancellationToken cancellationToken)
    {
        var last = PostResult.Insufficient;
        for (var i = 0; i < options.Count; i++)
        {
            last = await PostAsync(options[i].Entry, options[i].Caps, cancellationToken);
            if (last is PostResult.Posted or PostResult.Duplicate)
            {
                return (i, last);
            }
        }
        return (-1, last);
    }
}
