using Azure;
using Azure.Data.Tables;
using X402Serverless.AzureStorage.Tables;
using X402Serverless.Core.Payments;
using static X402Serverless.AzureStorage.TablePaymentEntities;
using static X402Serverless.AzureStorage.Tables.EntityFields;

namespace X402Serverless.AzureStorage;

// The settlement job queue: due Pending payments are leased by an ETag-conditioned replace, so two workers never
// hold the same job; stale in-flight payments are found for the sweeper.
public sealed partial class TablePaymentStore
{
    public async Task<IReadOnlyList<PaymentRecord>> ClaimDueAsync(DateTimeOffset now, DateTimeOffset leaseUntil, int max, CancellationToken cancellationToken)
    {
        var at = Time(now);
        var due = await _table.ListAsync(
            TableClient.CreateQueryFilter($"Status eq {nameof(PaymentStatus.Pending)} and NextAttemptAt le {at} and (LeaseUntil eq {""} or LeaseUntil le {at})"),
            max, cancellationToken);
        var claimed = new List<PaymentRecord>();
        foreach (var entity in due)
        {
            // The query's ETag is the one the filter matched: a lease taken since then fails the replace.
            entity["LeaseUntil"] = Time(leaseUntil);
            try
            {
                await _table.UpdateEntityAsync(entity, entity.ETag, TableUpdateMode.Replace, cancellationToken);
                claimed.Add(FromEntity(entity));
            }
            catch (RequestFailedException e) when (e.IsPreconditionFailed() || e.IsNotFound())
            {
                // another worker leased it first
            }
        }
        return claimed;
    }

    public async Task ReleaseLeasesAsync(CancellationToken cancellationToken)
    {
        foreach (var entity in await _table.ListAsync(TableClient.CreateQueryFilter($"Status eq {nameof(PaymentStatus.Pending)} and LeaseUntil ne {""}"), null, cancellationToken))
        {
            await TransitionAsync(entity.PartitionKey, e => Str(e, "Status") == nameof(PaymentStatus.Pending), e => e["LeaseUntil"] = "", cancellationToken);
        }
    }

    public async Task<IReadOnlyList<PaymentRecord>> FindStaleAsync(DateTimeOffset before, int max, CancellationToken cancellationToken) =>
        (await _table.ListAsync(TableClient.CreateQueryFilter(
            $"(Status eq {nameof(PaymentStatus.Reserved)} or Status eq {nameof(PaymentStatus.Settling)}) and UpdatedAt lt {Time(before)}"), max, cancellationToken))
            .Select(FromEntity).OrderBy(p => p.UpdatedAt).ToList();
}
