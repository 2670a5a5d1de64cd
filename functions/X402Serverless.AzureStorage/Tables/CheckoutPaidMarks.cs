using Azure;
using Azure.Data.Tables;

namespace X402Serverless.AzureStorage.Tables;

/// <summary>
/// A card checkout's "paid" mark and the sweep's delete, kept apart by the entity's ETag: the mark is written before
/// anything is credited, and the sweep deletes only the unmarked entity it read (If-Match), so a payment marked between
/// its read and its delete keeps the record.
/// </summary>
internal static class CheckoutPaidMarks
{
    private const string Paid = "Paid";

    public static async Task<bool> MarkPaidAsync(TableClient table, string partitionKey, string rowKey, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (await table.FindAsync(partitionKey, rowKey, cancellationToken) is not { } entity)
            {
                return false; // forgotten (or never opened): nothing may be credited for it
            }
            if (entity.GetBoolean(Paid) == true)
            {
                return true;
            }
            try
            {
                await table.UpdateEntityAsync(new TableEntity(partitionKey, rowKey) { [Paid] = true }, entity.ETag, TableUpdateMode.Merge, cancellationToken);
                return true;
            }
            catch (RequestFailedException e) when (e.IsPreconditionFailed() || e.IsNotFound())
            {
                // Changed or deleted since it was read: look again.
            }
        }
    }

    public static async Task<bool> DeleteUnpaidAsync(TableClient table, string partitionKey, string rowKey, CancellationToken cancellationToken)
    {
        if (await table.FindAsync(partitionKey, rowKey, cancellationToken) is not { } entity || entity.GetBoolean(Paid) == true)
        {
            return false;
        }
        try
        {
            // The SDK answers a delete of a missing entity with its 404 rather than an exception.
            using var response = await table.DeleteEntityAsync(partitionKey, rowKey, entity.ETag, cancellationToken);
            return response.Status != 404;
        }
        catch (RequestFailedException e) when (e.IsPreconditionFailed() || e.IsNotFound())
        {
            return false; // marked paid since it was read: kept
        }
    }
}
