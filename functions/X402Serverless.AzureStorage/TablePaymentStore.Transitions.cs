using Azure;
using Azure.Data.Tables;
using X402Serverless.AzureStorage.Tables;
using X402Serverless.Core.Payments;
using static X402Serverless.AzureStorage.TablePaymentEntities;
using static X402Serverless.AzureStorage.Tables.EntityFields;

namespace X402Serverless.AzureStorage;

// State changes. Each one asks the Core state machine (PaymentTransitions) whether the stored status may move, then
// replaces the row on the ETag it read: a concurrent writer makes it read again and decide afresh.
public sealed partial class TablePaymentStore
{
    public Task<bool> AdvanceAsync(string id, PaymentStatus target, DateTimeOffset at, CancellationToken cancellationToken)
    {
        PaymentTransitions.Advance.EnsureLeadsTo(target);
        return TransitionAsync(id, e => StartsFrom(PaymentTransitions.Advance, e), e =>
        {
            e["Status"] = target.ToString();
            e["UpdatedAt"] = Time(at);
            e["NextAttemptAt"] = Time(at);
            e["LeaseUntil"] = "";
        }, cancellationToken);
    }

    public Task RecordSubmittedAsync(string id, string transaction, DateTimeOffset at, CancellationToken cancellationToken) =>
        TransitionAsync(id, e => StartsFrom(PaymentTransitions.RecordSubmitted, e), e =>
        {
            e["Transaction"] = transaction;
            e["UpdatedAt"] = Time(at);
        }, cancellationToken);

    public Task<bool> TrySetContentOwedAsync(string id, bool owed, CancellationToken cancellationToken) =>
        TransitionAsync(id, e => Bool(e, "ContentOwed") != owed, e => e["ContentOwed"] = owed, cancellationToken);

    public Task MarkSettledAsync(string id, string transaction, DateTimeOffset at, CancellationToken cancellationToken) =>
        EndAsync(id, PaymentTransitions.Settle, PaymentStatus.Settled, transaction, null, at, cancellationToken);

    public Task MarkFailedAsync(string id, string reason, DateTimeOffset at, CancellationToken cancellationToken) =>
        EndAsync(id, PaymentTransitions.Fail, PaymentStatus.Failed, null, reason, at, cancellationToken);

    public Task MarkExpiredAsync(string id, DateTimeOffset at, CancellationToken cancellationToken) =>
        EndAsync(id, PaymentTransitions.Expire, PaymentStatus.Expired, null, "authorization_expired", at, cancellationToken);

    public Task ScheduleRetryAsync(string id, int attempts, DateTimeOffset nextAttemptAt, string lastError, DateTimeOffset at, CancellationToken cancellationToken) =>
        TransitionAsync(id, e => StartsFrom(PaymentTransitions.Retry, e), e =>
        {
            e["Status"] = nameof(PaymentStatus.Pending);
            e["Attempts"] = attempts;
            e["NextAttemptAt"] = Time(nextAttemptAt);
            e["LastError"] = lastError;
            e["LeaseUntil"] = "";
            e["UpdatedAt"] = Time(at);
        }, cancellationToken);

    public async Task ReleaseAsync(string id, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (await _table.FindAsync(id, Row, cancellationToken) is not { } found)
            {
                return;
            }
            // Only while nothing can have moved money: Reserved, or Settling with no transaction broadcast.
            if (!StartsFrom(PaymentTransitions.Release, found)
                || (Str(found, "Status") != nameof(PaymentStatus.Reserved) && !string.IsNullOrEmpty(OptStr(found, "Transaction"))))
            {
                return;
            }
            try
            {
                await _table.DeleteEntityAsync(id, Row, found.ETag, cancellationToken);
                await FreeSlotOfAsync(found, cancellationToken);
                return;
            }
            catch (RequestFailedException e) when (e.IsPreconditionFailed())
            {
                // changed under us: look again
            }
        }
    }

    private Task<bool> EndAsync(string id, PaymentTransition transition, PaymentStatus status, string? transaction, string? reason, DateTimeOffset at, CancellationToken cancellationToken) =>
        TransitionAsync(id, e => StartsFrom(transition, e), e =>
        {
            e["Status"] = status.ToString();
            if (transaction is not null)
            {
                e["Transaction"] = transaction;
            }
            e["FailureReason"] = reason;
            e["LeaseUntil"] = "";
            e["UpdatedAt"] = Time(at);
        }, cancellationToken);

    private static bool StartsFrom(PaymentTransition transition, TableEntity entity) =>
        Enum.TryParse<PaymentStatus>(Str(entity, "Status"), out var status) && transition.StartsFrom(status);

    /// <summary>Read, check, change, replace on the ETag; a concurrent writer makes it read again.</summary>
    private async Task<bool> TransitionAsync(string id, Func<TableEntity, bool> allowed, Action<TableEntity> change, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            if (await _table.FindAsync(id, Row, cancellationToken) is not { } entity || !allowed(entity))
            {
                return false;
            }
            change(entity);
            try
            {
                await _table.UpdateEntityAsync(entity, entity.ETag, TableUpdateMode.Replace, cancellationToken);
                return true;
            }
            catch (RequestFailedException e) when (e.IsPreconditionFailed())
            {
                // lost a race: the next read decides
            }
        }
        return false;
    }
}
