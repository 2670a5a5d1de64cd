using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using X402Serverless.AzureStorage.Tables;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Ports;
using static X402Serverless.AzureStorage.Tables.EntityFields;
using X402Serverless.Core.Money;

namespace X402Serverless.AzureStorage;

/// <summary>
/// The ledger on Table Storage, where a transaction cannot span partitions. Each entry is journaled first (its key is
/// the idempotency guard), then applied account by account: in each account's partition one entity group transaction
/// moves the balance (ETag-checked, floor enforced) and writes the posting, whose row key is the entry key, so a leg can
/// never apply twice. A refused leg or cap undoes what was applied and drops the journal entry; an entry left pending by
/// a crash is finished by <see cref="RecoverAsync"/>. Readers may see an entry half-applied for that moment only.
/// </summary>
public sealed class TableLedger(TableServiceClient service, TimeProvider time, string entriesTable = "ledgerentries", string accountsTable = "ledgeraccounts", string capsTable = "ledgercaps") : ILedger
{
    private const string EntryRow = "entry";
    private const string BalanceRow = "balance";
    private const string CounterRow = "counter";
    private readonly TableClient _entries = service.GetTableClient(entriesTable);
    private readonly TableClient _accounts = service.GetTableClient(accountsTable);
    private readonly TableClient _caps = service.GetTableClient(capsTable);

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
        try
        {
            await _entries.AddEntityAsync(new TableEntity(entry.Key, EntryRow)
            {
                ["Kind"] = entry.Kind,
                ["Memo"] = entry.Memo,
                ["Legs"] = JsonSerializer.Serialize(entry.Legs.Select(l => new[] { l.Account, l.Amount.Micros.ToString(CultureInfo.InvariantCulture) })),
                ["Caps"] = JsonSerializer.Serialize(caps.Select(c => new[] { c.Key, c.Amount.Micros.ToString(CultureInfo.InvariantCulture), c.Limit.Micros.ToString(CultureInfo.InvariantCulture) })),
                ["State"] = "pending",
                ["CreatedAt"] = Time(time.GetUtcNow()),
            }, cancellationToken);
        }
        catch (RequestFailedException e) when (e.IsConflict())
        {
            return PostResult.Duplicate;
        }
        return await ApplyAsync(entry, caps, cancellationToken);
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

    public async Task UndoCapsAsync(IReadOnlyList<CapCheck> caps, CancellationToken cancellationToken)
    {
        foreach (var cap in caps)
        {
            for (var attempt = 0; attempt < 10; attempt++)
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
                    // moved meanwhile: read again
                }
            }
        }
    }

    public async Task<Usd> BalanceAsync(string account, CancellationToken cancellationToken) =>
        Usd.FromMicros(await _accounts.FindAsync(account, BalanceRow, cancellationToken) is { } found ? OptLong(found, "Balance") ?? 0 : 0);

    public async Task<Usd> CapUsedAsync(string key, CancellationToken cancellationToken) =>
        await _caps.FindAsync(key, CounterRow, cancellationToken) is { } found ? Usd.FromMicros(OptLong(found, "Used") ?? 0) : Usd.Zero;

    public async Task SetFloorAsync(string account, Usd floor, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var (balance, etag, _) = await BalanceEntityAsync(account, cancellationToken);
            try
            {
                await _accounts.UpdateEntityAsync(Balance(account, balance, floor.Micros), etag, TableUpdateMode.Replace, cancellationToken);
                return;
            }
            catch (RequestFailedException e) when (e.IsPreconditionFailed())
            {
                // moved meanwhile
            }
        }
    }

    public async Task<IReadOnlyList<Posting>> PostingsAsync(string account, int limit, CancellationToken cancellationToken) =>
        (await _accounts.ListAsync(TableClient.CreateQueryFilter($"PartitionKey eq {account} and RowKey ge {"p:"} and RowKey lt {"p;"}"), null, cancellationToken))
            .Select(e => new Posting(Time(e, "At").UtcTicks, Str(e, "RowKey")[2..], Str(e, "Kind"), account, Usd.FromMicros(OptLong(e, "Amount") ?? 0), OptStr(e, "Memo"), Time(e, "At")))
            .OrderByDescending(p => p.Sequence).Take(limit).ToList();

    public async Task<bool> EntryExistsAsync(string key, CancellationToken cancellationToken) =>
        await _entries.FindAsync(key, EntryRow, cancellationToken) is not null;

    public async Task<IReadOnlyList<(string HoldId, string Source, Usd Amount)>> StaleHoldsAsync(DateTimeOffset before, int max, CancellationToken cancellationToken)
    {
        var result = new List<(string, string, Usd)>();
        foreach (var hold in await _accounts.ListAsync(TableClient.CreateQueryFilter($"PartitionKey ge {"hold:"} and PartitionKey lt {"hold;"} and RowKey eq {BalanceRow}"), null, cancellationToken))
        {
            var amount = OptLong(hold, "Balance") ?? 0;
            var holdId = hold.PartitionKey["hold:".Length..];
            if (amount <= 0 || await _entries.FindAsync(holdId, EntryRow, cancellationToken) is not { } entry
                || Str(entry, "State") != "posted" || Time(entry, "CreatedAt") >= before)
            {
                continue;
            }
            var source = Legs(entry).First(l => l.Amount.IsNegative).Account;
            result.Add((holdId, source, Usd.FromMicros(amount)));
            if (result.Count >= max)
            {
                break;
            }
        }
        return result;
    }

    public async Task<IReadOnlyList<(string Account, Usd Balance, Usd PostedSum)>> TrialBalanceAsync(CancellationToken cancellationToken)
    {
        var rows = await _accounts.ListAsync(TableClient.CreateQueryFilter($"RowKey eq {BalanceRow} or (RowKey ge {"p:"} and RowKey lt {"p;"})"), null, cancellationToken);
        return rows.GroupBy(r => Str(r, "PartitionKey"), StringComparer.Ordinal)
            .Select(g => (g.Key,
                Usd.FromMicros(g.Where(r => Str(r, "RowKey") == BalanceRow).Sum(r => OptLong(r, "Balance") ?? 0)),
                Usd.FromMicros(g.Where(r => Str(r, "RowKey") != BalanceRow).Sum(r => OptLong(r, "Amount") ?? 0))))
            .OrderBy(r => r.Key, StringComparer.Ordinal).ToList();
    }

    public async Task<Usd> TotalAsync(CancellationToken cancellationToken) =>
        Usd.FromMicros((await _accounts.ListAsync(TableClient.CreateQueryFilter($"RowKey ge {"p:"} and RowKey lt {"p;"}"), null, cancellationToken)).Sum(r => OptLong(r, "Amount") ?? 0));

    public async Task<int> RecoverAsync(TimeSpan olderThan, CancellationToken cancellationToken)
    {
        var before = Time(time.GetUtcNow() - olderThan);
        var recovered = 0;
        foreach (var pending in await _entries.ListAsync(TableClient.CreateQueryFilter($"State eq {"pending"} and CreatedAt lt {before}"), 100, cancellationToken))
        {
            var entry = new LedgerEntry(pending.PartitionKey, Str(pending, "Kind"), Legs(pending), OptStr(pending, "Memo"));
            var caps = JsonSerializer.Deserialize<string[][]>(Str(pending, "Caps"))!
                .Select(c => new CapCheck(c[0], Usd.FromMicros(long.Parse(c[1], CultureInfo.InvariantCulture)), Usd.FromMicros(long.Parse(c[2], CultureInfo.InvariantCulture)))).ToList();
            await ApplyAsync(entry, caps, cancellationToken);
            recovered++;
        }
        return recovered;
    }

    private async Task<PostResult> ApplyAsync(LedgerEntry entry, IReadOnlyList<CapCheck> caps, CancellationToken cancellationToken)
    {
        var appliedCaps = new List<CapCheck>();
        foreach (var cap in caps)
        {
            var result = await ApplyCapAsync(cap, entry.Key, cancellationToken);
            if (result == Applied.Refused)
            {
                await UndoAsync(entry.Key, [], appliedCaps, cancellationToken);
                return PostResult.CapExceeded;
            }
            appliedCaps.Add(cap);
        }
        var appliedLegs = new List<Leg>();
        // Debits first: a refused debit then has nothing credited to take back.
        foreach (var leg in entry.Legs.OrderBy(l => l.Amount))
        {
            var result = await ApplyLegAsync(leg, entry, cancellationToken);
            if (result == Applied.Refused)
            {
                await UndoAsync(entry.Key, appliedLegs, appliedCaps, cancellationToken);
                return PostResult.Insufficient;
            }
            appliedLegs.Add(leg);
        }
        await SetStateAsync(entry.Key, "posted", cancellationToken);
        return PostResult.Posted;
    }

    private async Task<Applied> ApplyLegAsync(Leg leg, LedgerEntry entry, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var (balance, etag, floor) = await BalanceEntityAsync(leg.Account, cancellationToken);
            var next = balance + leg.Amount.Micros;
            if (leg.Amount.Micros < 0 && next < floor)
            {
                return await _accounts.FindAsync(leg.Account, "p:" + entry.Key, cancellationToken) is null ? Applied.Refused : Applied.AlreadyDone;
            }
            try
            {
                await _accounts.SubmitTransactionAsync(
                [
                    new TableTransactionAction(TableTransactionActionType.UpdateReplace, Balance(leg.Account, next, floor), etag),
                    new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(leg.Account, "p:" + entry.Key)
                    {
                        ["Amount"] = Long(leg.Amount.Micros),
                        ["Kind"] = entry.Kind, ["Memo"] = entry.Memo, ["At"] = Time(time.GetUtcNow()),
                    }),
                ], cancellationToken);
                return Applied.Done;
            }
            catch (RequestFailedException e) when (e.IsConflict())
            {
                return Applied.AlreadyDone; // this leg of this entry is already in the account
            }
            catch (RequestFailedException e) when (e.IsPreconditionFailed())
            {
                await Task.Delay(Random.Shared.Next(1, 5 + attempt * 5), cancellationToken); // another writer moved the balance
            }
        }
        throw new RequestFailedException(412, $"Account {leg.Account} stayed contended.", "UpdateConditionNotSatisfied", null);
    }

    private async Task<Applied> ApplyCapAsync(CapCheck cap, string entryKey, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var counter = await _caps.FindAsync(cap.Key, CounterRow, cancellationToken);
            if (counter is null)
            {
                try
                {
                    await _caps.AddEntityAsync(Counter(cap.Key, 0), cancellationToken);
                }
                catch (RequestFailedException e) when (e.IsConflict())
                {
                    // created by someone else
                }
                continue;
            }
            var used = OptLong(counter, "Used") ?? 0;
            if (used + cap.Amount.Micros > cap.Limit.Micros)
            {
                return await _caps.FindAsync(cap.Key, "a:" + entryKey, cancellationToken) is null ? Applied.Refused : Applied.AlreadyDone;
            }
            try
            {
                await _caps.SubmitTransactionAsync(
                [
                    new TableTransactionAction(TableTransactionActionType.UpdateReplace, Counter(cap.Key, used + cap.Amount.Micros), counter.ETag),
                    new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(cap.Key, "a:" + entryKey) { ["Amount"] = Long(cap.Amount.Micros) }),
                ], cancellationToken);
                return Applied.Done;
            }
            catch (RequestFailedException e) when (e.IsConflict())
            {
                return Applied.AlreadyDone;
            }
            catch (RequestFailedException e) when (e.IsPreconditionFailed())
            {
                await Task.Delay(Random.Shared.Next(1, 5 + attempt * 5), cancellationToken);
            }
        }
        throw new RequestFailedException(412, $"Cap {cap.Key} stayed contended.", "UpdateConditionNotSatisfied", null);
    }

    // Takes back applied legs and caps (each with its marker), then drops the journal entry so the key is free again.
    private async Task UndoAsync(string entryKey, IReadOnlyList<Leg> legs, IReadOnlyList<CapCheck> caps, CancellationToken cancellationToken)
    {
        foreach (var leg in legs)
        {
            for (var attempt = 0; attempt < 20; attempt++)
            {
                var (balance, etag, floor) = await BalanceEntityAsync(leg.Account, cancellationToken);
                try
                {
                    await _accounts.SubmitTransactionAsync(
                    [
                        new TableTransactionAction(TableTransactionActionType.UpdateReplace, Balance(leg.Account, balance - leg.Amount.Micros, floor), etag),
                        new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(leg.Account, "p:" + entryKey), ETag.All),
                    ], cancellationToken);
                    break;
                }
                catch (RequestFailedException e) when (e.IsPreconditionFailed())
                {
                    await Task.Delay(Random.Shared.Next(1, 10), cancellationToken);
                }
                catch (RequestFailedException e) when (e.IsNotFound())
                {
                    break; // already taken back
                }
            }
        }
        foreach (var cap in caps)
        {
            for (var attempt = 0; attempt < 20; attempt++)
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
                        new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(cap.Key, "a:" + entryKey), ETag.All),
                    ], cancellationToken);
                    break;
                }
                catch (RequestFailedException e) when (e.IsPreconditionFailed())
                {
                    await Task.Delay(Random.Shared.Next(1, 10), cancellationToken);
                }
                catch (RequestFailedException e) when (e.IsNotFound())
                {
                    break;
                }
            }
        }
        await _entries.DeleteEntityAsync(entryKey, EntryRow, ETag.All, cancellationToken);
    }

    private async Task SetStateAsync(string entryKey, string state, CancellationToken cancellationToken)
    {
        if (await _entries.FindAsync(entryKey, EntryRow, cancellationToken) is { } entity)
        {
            entity["State"] = state;
            await _entries.UpdateEntityAsync(entity, ETag.All, TableUpdateMode.Replace, cancellationToken);
        }
    }

    private async Task<(long Balance, ETag ETag, long Floor)> BalanceEntityAsync(string account, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            if (await _accounts.FindAsync(account, BalanceRow, cancellationToken) is { } found)
            {
                return (OptLong(found, "Balance") ?? 0, found.ETag, OptLong(found, "Floor") ?? 0);
            }
            try
            {
                var floor = Accounts.IsClearing(account) ? long.MinValue : 0;
                var created = await _accounts.AddEntityAsync(Balance(account, 0, floor), cancellationToken);
                return (0, created.Headers.ETag ?? ETag.All, floor);
            }
            catch (RequestFailedException e) when (e.IsConflict())
            {
                // created concurrently: read it
            }
        }
        throw new RequestFailedException(409, $"Account {account} could not be read.", "EntityAlreadyExists", null);
    }

    private static TableEntity Balance(string account, long balance, long floor) => new(account, BalanceRow)
    {
        ["Balance"] = Long(balance), ["Floor"] = Long(floor),
    };

    private static TableEntity Counter(string key, long used) => new(key, CounterRow) { ["Used"] = Long(used) };

    private static List<Leg> Legs(TableEntity entry) =>
        JsonSerializer.Deserialize<string[][]>(Str(entry, "Legs"))!.Select(l => new Leg(l[0], Usd.FromMicros(long.Parse(l[1], CultureInfo.InvariantCulture)))).ToList();
}
