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
            var (balance, etag, _) = await BalanceEntityAsync(account, cancellationToken);
            try
            {
                await _accounts.UpdateEntityAsync(Balance(account, balance, floor.Micros), etag, TableUpdateMode.Replace, cancellationToken);
                return true;
            }
            catch (RequestFailedException e) when (e.IsPreconditionFailed())
            {
                return null; // moved by another process
            }
        }, cancellationToken);

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
}
