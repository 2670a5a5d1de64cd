using Azure.Data.Tables;

namespace X402Serverless.AzureStorage.Tables;

/// <summary>Point reads and bounded queries in the shape the adapters use.</summary>
internal static class TableReads
{
    /// <summary>The entity (with its ETag), or null when it is not there.</summary>
    public static async Task<TableEntity?> FindAsync(this TableClient table, string partitionKey, string rowKey, CancellationToken cancellationToken)
    {
        var found = await table.GetEntityIfExistsAsync<TableEntity>(partitionKey, rowKey, cancellationToken: cancellationToken);
        return found.HasValue ? found.Value : null;
    }

    /// <summary>
    /// Every entity matching the filter (build it with <see cref="TableClient.CreateQueryFilter(FormattableString)"/>),
    /// or the first <paramref name="max"/>; the SDK follows continuation tokens, including across empty pages.
    /// </summary>
    public static async Task<List<TableEntity>> ListAsync(this TableClient table, string filter, int? max, CancellationToken cancellationToken, int pageSize = 1000)
    {
        var results = new List<TableEntity>();
        if (max is <= 0)
        {
            return results;
        }
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, Math.Min(pageSize, max ?? pageSize), cancellationToken: cancellationToken))
        {
            results.Add(entity);
            if (results.Count == max)
            {
                break;
            }
        }
        return results;
    }
}
