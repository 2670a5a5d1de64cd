using Azure;
using Azure.Data.Tables;
using X402Serverless.AzureStorage.Tables;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;
using static X402Serverless.AzureStorage.Tables.EntityFields;
using X402Serverless.Core.Money;

namespace X402Serverless.AzureStorage;

/// <summary>
/// Payments and their settlement jobs in Table Storage. Partition = payment id (derived from the authorization), so
/// the insert is the replay guard and concurrent payers never share a partition; every state change is a conditional
/// replace on the ETag read, so two workers can never both move the same job.
/// </summary>
public sealed class TablePaymentStore(TableServiceClient service, string tableName = "payments") : IPaymentStore
{
    private const string Row = "item";
    private readonly TableClient _table = service.GetTableClient(tableName);

    public Task InitializeAsync(CancellationToken cancellationToken) => _table.CreateIfNotExistsAsync(cancellationToken);

    public async Task<bool> TryReserveAsync(PaymentRecord payment, CancellationToken cancellationToken)
    {
        try
        {
            await _table.AddEntityAsync(ToEntity(payment with { Status = PaymentStatus.Reserved }), cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.IsConflict())
        {
            return false;
        }
    }

    public async Task<PaymentRecord?> GetAsync(string id, CancellationToken cancellationToken) =>
        await _table.FindAsync(id, Row, cancellationToken) is { } found ? FromEntity(found) : null;

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
                return;
            }
            catch (RequestFailedException e) when (e.IsPreconditionFailed())
            {
                // changed under us: look again
            }
        }
    }

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

    public async Task<IReadOnlyList<PaymentRecord>> ListAsync(string organisationId, PaymentQuery query, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"OrganisationId eq {organisationId}");
        if (query.Status is { } status)
        {
            filter += TableClient.CreateQueryFilter($" and Status eq {status.ToString()}");
        }
        if (query.LinkId is { } link)
        {
            filter += TableClient.CreateQueryFilter($" and LinkId eq {link}");
        }
        if (query.Before is { } before)
        {
            filter += TableClient.CreateQueryFilter($" and CreatedAt lt {Time(before)}");
        }
        // Table Storage orders by key, not by time: read the organisation's matches and sort them here.
        return (await _table.ListAsync(filter, null, cancellationToken)).Select(FromEntity)
            .OrderByDescending(p => p.CreatedAt).ThenBy(p => p.Id, StringComparer.Ordinal).Take(Math.Clamp(query.Limit, 1, 500)).ToList();
    }

    // Table Storage cannot aggregate: the organisation's rows are read and summed here.
    public async Task<IReadOnlyList<PaymentTotals>> TotalsByLinkAsync(string organisationId, CancellationToken cancellationToken) =>
        PaymentTotals.Aggregate((await _table.ListAsync(TableClient.CreateQueryFilter($"OrganisationId eq {organisationId}"), null, cancellationToken))
            .Select(FromEntity).Select(p => (p.LinkId, p.Network, p.Status, p.Amount)));

    public async Task<IReadOnlyList<PaymentRecord>> ListByLinkPrefixAsync(string prefix, PaymentStatus status, int max, CancellationToken cancellationToken) =>
        (await _table.ListAsync(TableClient.CreateQueryFilter(
            $"LinkId ge {prefix} and LinkId lt {prefix + "\uffff"} and Status eq {status.ToString()}"), null, cancellationToken))
            .Select(FromEntity).OrderByDescending(p => p.UpdatedAt).Take(max).ToList();

    public async Task<PayerHistory> GetPayerHistoryAsync(string payer, string organisationId, CancellationToken cancellationToken)
    {
        var rows = await _table.ListAsync(TableClient.CreateQueryFilter(
            $"Payer eq {payer} and ((Status eq {nameof(PaymentStatus.Settled)} and OrganisationId eq {organisationId}) or Mode eq {SettlementModes.Deferred})"),
            null, cancellationToken);
        var deferred = rows.Where(e => Str(e, "Mode") == SettlementModes.Deferred).Select(e => Str(e, "Status")).ToList();
        return new PayerHistory(
            rows.Any(e => Str(e, "Status") == nameof(PaymentStatus.Settled) && Str(e, "OrganisationId") == organisationId),
            deferred.Any(s => s is nameof(PaymentStatus.Failed) or nameof(PaymentStatus.Expired)),
            deferred.Count(s => Enum.TryParse<PaymentStatus>(s, out var status) && PaymentTransitions.Live.Contains(status)));
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

    private static TableEntity ToEntity(PaymentRecord p) => new(p.Id, Row)
    {
        ["LinkId"] = p.LinkId,
        ["OrganisationId"] = p.OrganisationId,
        ["Network"] = p.Network,
        ["Asset"] = p.Asset,
        ["Payer"] = p.Payer,
        ["PayTo"] = p.PayTo,
        ["Nonce"] = p.Nonce,
        ["Amount"] = p.Amount.ToString(),
        ["X402Version"] = p.X402Version,
        ["Status"] = p.Status.ToString(),
        ["Mode"] = p.Mode,
        ["Facilitator"] = p.Facilitator,
        ["SettleRequest"] = p.SettleRequest,
        ["ValidBefore"] = Long(p.ValidBefore),
        ["Attempts"] = p.Attempts,
        ["NextAttemptAt"] = p.NextAttemptAt is { } n ? Time(n) : "",
        ["LeaseUntil"] = "",
        ["LastError"] = p.LastError,
        ["Transaction"] = p.Transaction,
        ["FailureReason"] = p.FailureReason,
        ["ContentOwed"] = p.ContentOwed,
        ["CreatedAt"] = Time(p.CreatedAt),
        ["UpdatedAt"] = Time(p.UpdatedAt),
    };

    private static PaymentRecord FromEntity(TableEntity e) => new()
    {
        Id = Str(e, "PartitionKey"),
        LinkId = Str(e, "LinkId"),
        OrganisationId = Str(e, "OrganisationId"),
        Network = Str(e, "Network"),
        Asset = Str(e, "Asset"),
        Payer = Str(e, "Payer"),
        PayTo = Str(e, "PayTo"),
        Nonce = Str(e, "Nonce"),
        Amount = TokenAmount.Parse(Str(e, "Amount")),
        X402Version = OptInt(e, "X402Version") ?? 2,
        Status = Enum.Parse<PaymentStatus>(Str(e, "Status")),
        Mode = Str(e, "Mode"),
        Facilitator = Str(e, "Facilitator"),
        SettleRequest = OptStr(e, "SettleRequest"),
        ValidBefore = OptLong(e, "ValidBefore") ?? 0,
        Attempts = OptInt(e, "Attempts") ?? 0,
        NextAttemptAt = OptStr(e, "NextAttemptAt") is { Length: > 0 } n ? DateTimeOffset.Parse(n, System.Globalization.CultureInfo.InvariantCulture) : null,
        LastError = OptStr(e, "LastError"),
        Transaction = OptStr(e, "Transaction") is { Length: > 0 } t ? t : null,
        FailureReason = OptStr(e, "FailureReason"),
        ContentOwed = Bool(e, "ContentOwed"),
        CreatedAt = Time(e, "CreatedAt"),
        UpdatedAt = Time(e, "UpdatedAt"),
    };
}
