using Azure;

namespace X402Serverless.AzureStorage.Tables;

/// <summary>
/// The service answers the adapters branch on. A failed transaction (<see cref="Azure.Data.Tables.TableTransactionFailedException"/>)
/// carries the failing action's status, so the same checks apply to batches.
/// </summary>
internal static class TableErrors
{
    /// <summary>409: the entity (or table) already exists.</summary>
    public static bool IsConflict(this RequestFailedException e) => e.Status == 409;

    /// <summary>412: the ETag no longer matches; another writer got there first.</summary>
    public static bool IsPreconditionFailed(this RequestFailedException e) => e.Status == 412;

    public static bool IsNotFound(this RequestFailedException e) => e.Status == 404;
}
