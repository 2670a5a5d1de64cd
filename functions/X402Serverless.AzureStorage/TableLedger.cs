using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
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
public sealed class TableLedger(TableClient tables, TimeProvider time, string entriesTable = "ledgerentries", string accountsTable = "ledgeraccounts", string capsTable = "ledgercaps") : ILedger
{
    private const string EntryRow = "entry";
    private const string BalanceRow = "balance";
    private const string CounterRow = "counter";

    private enum Applied
    {
        Done,
        AlreadyDone,
        Refused,
    }

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await tables.CreateTableIfMissingAsync(entriesTable, cancellationToken);
        await tables.CreateTableIfMissingAsync(accountsTable, cancellationToken);
        await tables.CreateTableIfMissingAsync(capsTable, cancellationToken);
    }

    public async Task<PostResult> PostAsync(LedgerEntry entry, IReadOnlyList<CapCheck> caps, CancellationToken cancellationToken)
    {
        if (!entry.IsBalanced)
        {
            throw new ArgumentException($"Entry {entry.Key} does not balance.", nameof(entry));
        }
        try
        {
            await tables.InsertAsync(entriesTable, new JsonObject
            {
                ["PartitionKey"] = entry.Key,
                ["RowKey"] = EntryRow,
                ["Kind"] = entry.Kind,
                ["Memo"] = entry.Memo,
                ["Legs"] = JsonSerializer.Serialize(entry.Legs.Select(l => new[] { l.Account, l.Amount.Micros.ToString(CultureInfo.InvariantCulture) })),
                ["Caps"] = JsonSerializer.Serialize(caps.Select(c => new[] { c.Key, c.Amount.Micros.ToString(CultureInfo.InvariantCulture), c.Limit.Micros.ToString(CultureInfo.InvariantCulture) })),
                ["State"] = "pending",
                ["CreatedAt"] = Time(time.GetUtcNow()),
            }, cancellationToken);
        }
        catch (TableException e) when (e.IsConflict)
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
                if (await tables.GetAsync(capsTable, cap.Key, CounterRow, cancellationToken) is not { } counter)
                {
                    break;
                }
                var used = OptLong(counter.Entity, "Used") ?? 0;
                try
                {
                    await tables.ReplaceAsync(capsTable, Counter(cap.Key, Math.Max(0, used - cap.Amount.Micros)), counter.ETag, cancellationToken);
                    break;
                }
                catch (TableException e) when (e.IsPreconditionFailed)
                {
                    // moved meanwhile: read again
                }
            }
        }
    }

    public async Task<Usd> BalanceAsync(string account, CancellationToken cancellationToken) =>
        Usd.FromMicros(await tables.GetAsync(accountsTable, account, BalanceRow, cancellationToken) is { } found ? OptLong(found.Entity, "Balance") ?? 0 : 0);

    public async Task<Usd> CapUsedAsync(string key, CancellationToken cancellationToken) =>
        await tables.GetAsync(capsTable, key, CounterRow, cancellationToken) is { } found ? Usd.FromMicros(OptLong(found.Entity, "Used") ?? 0) : Usd.Zero;

    public async Task SetFloorAsync(string account, Usd floor, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var (balance, etag, _) = await BalanceEntityAsync(account, cancellationToken);
            try
            {
                await tables.ReplaceAsync(accountsTable, Balance(account, balance, floor.Micros), etag, cancellationToken);
                return;
            }
            catch (TableException e) when (e.IsPreconditionFailed)
            {
                // moved meanwhile
            }
        }
    }

    public async Task<IReadOnlyList<Posting>> PostingsAsync(string account, int limit, CancellationToken cancellationToken) =>
        (await tables.QueryAsync(accountsTable, $"PartitionKey eq {TableClient.Literal(account)} and RowKey ge 'p:' and RowKey lt 'p;'", null, cancellationToken))
            .Select(e => new Posting(Time(e, "At").UtcTicks, Str(e, "RowKey")[2..], Str(e, "Kind"), account, Usd.FromMicros(OptLong(e, "Amount") ?? 0), OptStr(e, "Memo"), Time(e, "At")))
            .OrderByDescending(p => p.Sequence).Take(limit).ToList();

    public async Task<bool> EntryExistsAsync(string key, CancellationToken cancellationToken) =>
        await tables.GetAsync(entriesTable, key, EntryRow, cancellationToken) is not null;

    public async Task<IReadOnlyList<(string HoldId, string Source, Usd Amount)>> StaleHoldsAsync(DateTimeOffset before, int max, CancellationToken cancellationToken)
    {
        var result = new List<(string, string, Usd)>();
        foreach (var hold in await tables.QueryAsync(accountsTable, "PartitionKey ge 'hold:' and PartitionKey lt 'hold;' and RowKey eq 'balance'", null, cancellationToken))
        {
            var amount = OptLong(hold, "Balance") ?? 0;
            var holdId = Str(hold, "PartitionKey")["hold:".Length..];
            if (amount <= 0 || await tables.GetAsync(entriesTable, holdId, EntryRow, cancellationToken) is not { } entry
                || Str(entry.Entity, "State") != "posted" || Time(entry.Entity, "CreatedAt") >= before)
            {
                continue;
            }
            var source = Legs(entry.Entity).First(l => l.Amount.IsNegative).Account;
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
        var rows = await tables.QueryAsync(accountsTable, "RowKey eq 'balance' or (RowKey ge 'p:' and RowKey lt 'p;')", null, cancellationToken);
        return rows.GroupBy(r => Str(r, "PartitionKey"), StringComparer.Ordinal)
            .Select(g => (g.Key,
                Usd.FromMicros(g.Where(r => Str(r, "RowKey") == BalanceRow).Sum(r => OptLong(r, "Balance") ?? 0)),
                Usd.FromMicros(g.Where(r => Str(r, "RowKey") != BalanceRow).Sum(r => OptLong(r, "Amount") ?? 0))))
            .OrderBy(r => r.Key, StringComparer.Ordinal).ToList();
    }

    public async Task<Usd> TotalAsync(CancellationToken cancellationToken) =>
        Usd.FromMicros((await tables.QueryAsync(accountsTable, "RowKey ge 'p:' and RowKey lt 'p;'", null, cancellationToken)).Sum(r => OptLong(r, "Amount") ?? 0));

    public async Task<int> RecoverAsync(TimeSpan olderThan, CancellationToken cancellationToken)
    {
        var before = Time(time.GetUtcNow() - olderThan);
        var recovered = 0;
        foreach (var pending in await tables.QueryAsync(entriesTable, $"State eq 'pending' and CreatedAt lt {TableClient.Literal(before)}", 100, cancellationToken))
        {
            var entry = new LedgerEntry(Str(pending, "PartitionKey"), Str(pending, "Kind"), Legs(pending), OptStr(pending, "Memo"));
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
                return await tables.GetAsync(accountsTable, leg.Account, "p:" + entry.Key, cancellationToken) is null ? Applied.Refused : Applied.AlreadyDone;
            }
            try
            {
                await tables.SubmitBatchAsync(accountsTable,
                [
                    TableBatchOperation.Replace(Balance(leg.Account, next, floor), etag),
                    TableBatchOperation.Insert(new JsonObject
                    {
                        ["PartitionKey"] = leg.Account, ["RowKey"] = "p:" + entry.Key, ["Amount"] = Long(leg.Amount.Micros),
                        ["Kind"] = entry.Kind, ["Memo"] = entry.Memo, ["At"] = Time(time.GetUtcNow()),
                    }),
                ], cancellationToken);
                return Applied.Done;
            }
            catch (TableException e) when (e.IsConflict)
            {
                return Applied.AlreadyDone; // this leg of this entry is already in the account
            }
            catch (TableException e) when (e.IsPreconditionFailed)
            {
                await Task.Delay(Random.Shared.Next(1, 5 + attempt * 5), cancellationToken); // another writer moved the balance
            }
        }
        throw new TableException(412, "UpdateConditionNotSatisfied", $"Account {leg.Account} stayed contended.");
    }

    private async Task<Applied> ApplyCapAsync(CapCheck cap, string entryKey, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var counter = await tables.GetAsync(capsTable, cap.Key, CounterRow, cancellationToken);
            if (counter is null)
            {
                try
                {
                    await tables.InsertAsync(capsTable, Counter(cap.Key, 0), cancellationToken);
                }
                catch (TableException e) when (e.IsConflict)
                {
                    // created by someone else
                }
                continue;
            }
            var used = OptLong(counter.Value.Entity, "Used") ?? 0;
            if (used + cap.Amount.Micros > cap.Limit.Micros)
            {
                return await tables.GetAsync(capsTable, cap.Key, "a:" + entryKey, cancellationToken) is null ? Applied.Refused : Applied.AlreadyDone;
            }
            try
            {
                await tables.SubmitBatchAsync(capsTable,
                [
                    TableBatchOperation.Replace(Counter(cap.Key, used + cap.Amount.Micros), counter.Value.ETag),
                    TableBatchOperation.Insert(new JsonObject { ["PartitionKey"] = cap.Key, ["RowKey"] = "a:" + entryKey, ["Amount"] = Long(cap.Amount.Micros) }),
                ], cancellationToken);
                return Applied.Done;
            }
            catch (TableException e) when (e.IsConflict)
            {
                return Applied.AlreadyDone;
            }
            catch (TableException e) when (e.IsPreconditionFailed)
            {
                await Task.Delay(Random.Shared.Next(1, 5 + attempt * 5), cancellationToken);
            }
        }
        throw new TableException(412, "UpdateConditionNotSatisfied", $"Cap {cap.Key} stayed contended.");
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
                    await tables.SubmitBatchAsync(accountsTable,
                    [
                        TableBatchOperation.Replace(Balance(leg.Account, balance - leg.Amount.Micros, floor), etag),
                        TableBatchOperation.Delete(new JsonObject { ["PartitionKey"] = leg.Account, ["RowKey"] = "p:" + entryKey }, "*"),
                    ], cancellationToken);
                    break;
                }
                catch (TableException e) when (e.IsPreconditionFailed)
                {
                    await Task.Delay(Random.Shared.Next(1, 10), cancellationToken);
                }
                catch (TableException e) when (e.IsNotFound)
                {
                    break; // already taken back
                }
            }
        }
        foreach (var cap in caps)
        {
            for (var attempt = 0; attempt < 20; attempt++)
            {
                var counter = await tables.GetAsync(capsTable, cap.Key, CounterRow, cancellationToken);
                if (counter is null)
                {
                    break;
                }
                try
                {
                    await tables.SubmitBatchAsync(capsTable,
                    [
                        TableBatchOperation.Replace(Counter(cap.Key, Math.Max(0, (OptLong(counter.Value.Entity, "Used") ?? 0) - cap.Amount.Micros)), counter.Value.ETag),
                        TableBatchOperation.Delete(new JsonObject { ["PartitionKey"] = cap.Key, ["RowKey"] = "a:" + entryKey }, "*"),
                    ], cancellationToken);
                    break;
                }
                catch (TableException e) when (e.IsPreconditionFailed)
                {
                    await Task.Delay(Random.Shared.Next(1, 10), cancellationToken);
                }
                catch (TableException e) when (e.IsNotFound)
                {
                    break;
                }
            }
        }
        await tables.DeleteAsync(entriesTable, entryKey, EntryRow, "*", cancellationToken);
    }

    private async Task SetStateAsync(string entryKey, string state, CancellationToken cancellationToken)
    {
        if (await tables.GetAsync(entriesTable, entryKey, EntryRow, cancellationToken) is { } found)
        {
            var entity = found.Entity;
            entity.Remove("Timestamp");
            entity["State"] = state;
            await tables.ReplaceAsync(entriesTable, entity, "*", cancellationToken);
        }
    }

    private async Task<(long Balance, string ETag, long Floor)> BalanceEntityAsync(string account, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            if (await tables.GetAsync(accountsTable, account, BalanceRow, cancellationToken) is { } found)
            {
                return (OptLong(found.Entity, "Balance") ?? 0, found.ETag, OptLong(found.Entity, "Floor") ?? 0);
            }
            try
            {
                var floor = Accounts.IsClearing(account) ? long.MinValue : 0;
                var etag = await tables.InsertAsync(accountsTable, Balance(account, 0, floor), cancellationToken);
                return (0, etag, floor);
            }
            catch (TableException e) when (e.IsConflict)
            {
                // created concurrently: read it
            }
        }
        throw new TableException(409, "EntityAlreadyExists", $"Account {account} could not be read.");
    }

    private static JsonObject Balance(string account, long balance, long floor) => new()
    {
        ["PartitionKey"] = account, ["RowKey"] = BalanceRow, ["Balance"] = Long(balance), ["Floor"] = Long(floor),
    };

    private static JsonObject Counter(string key, long used) => new() { ["PartitionKey"] = key, ["RowKey"] = CounterRow, ["Used"] = Long(used) };

    private static List<Leg> Legs(JsonObject entry) =>
        JsonSerializer.Deserialize<string[][]>(Str(entry, "Legs"))!.Select(l => new Leg(l[0], Usd.FromMicros(long.Parse(l[1], CultureInfo.InvariantCulture)))).ToList();
}
