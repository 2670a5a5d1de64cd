using Azure;
using Azure.Data.Tables;
using X402Serverless.AzureStorage.Tables;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;
using static X402Serverless.AzureStorage.TableLedgerEntities;
using static X402Serverless.AzureStorage.Tables.EntityFields;

namespace X402Serverless.AzureStorage;

// An account's balance row: created on first touch with the floor its kind allows, and read with the ETag every
// balance change is conditioned on.
public sealed partial class TableLedger
{
    /// <summary>Sets the account's floor (a credit limit), in turn with the calls spending from it.</summary>
    public Task SetFloorAsync(string account, Usd floor, CancellationToken cancellationToken) =>
        InTurnAsync<bool>(_accountTurns, account, async () =>
        {
            var row = await BalanceRowAsync(account, cancellationToken);
            _knownBalances.Forget(account);
            try
            {
                await _accounts.UpdateEntityAsync(Balance(account, row.Value, floor.Micros), row.ETag, TableUpdateMode.Replace, cancellationToken);
                return true;
            }
            catch (RequestFailedException e) when (e.IsPreconditionFailed())
            {
                return null; // moved by another process
            }
        }, cancellationToken);

    /// <summary>The account's balance row as stored (not as remembered), created with its kind's floor on first touch.</summary>
    private async Task<KnownRow> BalanceRowAsync(string account, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            if (await _accounts.FindAsync(account, BalanceRow, cancellationToken) is { } found)
            {
                return new KnownRow(OptLong(found, "Balance") ?? 0, OptLong(found, "Floor") ?? 0, found.ETag, Remembered: false);
            }
            try
            {
                var floor = Accounts.IsClearing(account) ? long.MinValue : 0;
                var created = await _accounts.AddEntityAsync(Balance(account, 0, floor), cancellationToken);
                // Without its ETag the next write could not be conditioned on it: read it instead.
                if (created.Headers.ETag is { } etag)
                {
                    return new KnownRow(0, floor, etag, Remembered: false);
                }
            }
            catch (RequestFailedException e) when (e.IsConflict())
            {
                // created concurrently: read it
            }
        }
        throw new RequestFailedException(409, $"Account {account} could not be read.", "EntityAlreadyExists", null);
    }
}
