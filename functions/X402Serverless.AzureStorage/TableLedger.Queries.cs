using Azure.Data.Tables;
using X402Serverless.AzureStorage.Tables;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;
using static X402Serverless.AzureStorage.TableLedgerEntities;
using static X402Serverless.AzureStorage.Tables.EntityFields;

namespace X402Serverless.AzureStorage;

// Reads. Table Storage cannot aggregate or order by time, so sums, groupings and ordering happen here on the rows read.
public sealed partial class TableLedger
{
    public async Task<Usd> BalanceAsync(string account, CancellationToken cancellationToken) =>
        Usd.FromMicros(await _accounts.FindAsync(account, BalanceRow, cancellationToken) is { } found ? OptLong(found, "Balance") ?? 0 : 0);

    public async Task<Usd> CapUsedAsync(string key, CancellationToken cancellationToken) =>
        await _caps.FindAsync(key, CounterRow, cancellationToken) is { } found ? Usd.FromMicros(OptLong(found, "Used") ?? 0) : Usd.Zero;

    public async Task<IReadOnlyList<Posting>> PostingsAsync(string account, int limit, CancellationToken cancellationToken) =>
        (await _accounts.ListAsync(TableClient.CreateQueryFilter($"PartitionKey eq {account} and RowKey ge {PostingPrefix} and RowKey lt {PostingPrefixEnd}"), null, cancellationToken))
            .Select(e => ReadPosting(e, account))
            .OrderByDescending(p => p.Sequence).Take(limit).ToList();

    public async Task<bool> EntryExistsAsync(string key, CancellationToken cancellationToken) =>
        await _entries.FindAsync(key, EntryRow, cancellationToken) is { } journal && Str(journal, "State") != Refused;

    public async Task<IReadOnlyList<Leg>?> EntryLegsAsync(string key, CancellationToken cancellationToken) =>
        await _entries.FindAsync(key, EntryRow, cancellationToken) is { } journal && Str(journal, "State") == Posted ? Legs(journal) : null;

    public async Task<IReadOnlyList<(string HoldId, string Source, Usd Amount)>> StaleHoldsAsync(DateTimeOffset before, int max, CancellationToken cancellationToken)
    {
        var result = new List<(string, string, Usd)>();
        foreach (var hold in await _accounts.ListAsync(TableClient.CreateQueryFilter($"PartitionKey ge {"hold:"} and PartitionKey lt {"hold;"} and RowKey eq {BalanceRow}"), null, cancellationToken))
        {
            var amount = OptLong(hold, "Balance") ?? 0;
            var holdId = hold.PartitionKey["hold:".Length..];
            if (amount <= 0 || await _entries.FindAsync(holdId, EntryRow, cancellationToken) is not { } entry
                || Str(entry, "State") != Posted || Time(entry, "CreatedAt") >= before)
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
        var rows = await _accounts.ListAsync(TableClient.CreateQueryFilter($"RowKey eq {BalanceRow} or (RowKey ge {PostingPrefix} and RowKey lt {PostingPrefixEnd})"), null, cancellationToken);
        return rows.GroupBy(r => Str(r, "PartitionKey"), StringComparer.Ordinal)
            .Select(g => (g.Key,
                Usd.FromMicros(g.Where(r => Str(r, "RowKey") == BalanceRow).Sum(r => OptLong(r, "Balance") ?? 0)),
                Usd.FromMicros(g.Where(r => Str(r, "RowKey") != BalanceRow).Sum(r => OptLong(r, "Amount") ?? 0))))
            .OrderBy(r => r.Key, StringComparer.Ordinal).ToList();
    }

    public async Task<Usd> TotalAsync(CancellationToken cancellationToken) =>
        Usd.FromMicros((await _accounts.ListAsync(TableClient.CreateQueryFilter($"RowKey ge {PostingPrefix} and RowKey lt {PostingPrefixEnd}"), null, cancellationToken)).Sum(r => OptLong(r, "Amount") ?? 0));
}
