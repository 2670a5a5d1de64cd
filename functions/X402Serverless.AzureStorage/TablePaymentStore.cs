using System.Text.Json.Nodes;
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
public sealed class TablePaymentStore(TableClient tables, string tableName = "payments") : IPaymentStore
{
    private const string Row = "item";

    public Task InitializeAsync(CancellationToken cancellationToken) => tables.CreateTableIfMissingAsync(tableName, cancellationToken);

    public async Task<bool> TryReserveAsync(PaymentRecord payment, CancellationToken cancellationToken)
    {
        try
        {
            await tables.InsertAsync(tableName, ToEntity(payment with { Status = PaymentStatus.Reserved }), cancellationToken);
            return true;
        }
        catch (TableException e) when (e.IsConflict)
        {
            return false;
        }
    }

    public async Task<PaymentRecord?> GetAsync(string id, CancellationToken cancellationToken) =>
        await tables.GetAsync(tableName, id, Row, cancellationToken) is { } found ? FromEntity(found.Entity) : null;

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
            if (await tables.GetAsync(tableName, id, Row, cancellationToken) is not { } found)
            {
                return;
            }
            // Only while nothing can have moved money: Reserved, or Settling with no transaction broadcast.
            if (!StartsFrom(PaymentTransitions.Release, found.Entity)
                || (Str(found.Entity, "Status") != nameof(PaymentStatus.Reserved) && !string.IsNullOrEmpty(OptStr(found.Entity, "Transaction"))))
            {
                return;
            }
            try
            {
                await tables.DeleteAsync(tableName, id, Row, found.ETag, cancellationToken);
                return;
            }
            catch (TableException e) when (e.IsPreconditionFailed)
            {
                // changed under us: look again
            }
        }
    }

    public async Task<IReadOnlyList<PaymentRecord>> ClaimDueAsync(DateTimeOffset now, DateTimeOffset leaseUntil, int max, CancellationToken cancellationToken)
    {
        var due = await tables.QueryAsync(tableName,
            $"Status eq 'Pending' and NextAttemptAt le {TableClient.Literal(Time(now))} and (LeaseUntil eq '' or LeaseUntil le {TableClient.Literal(Time(now))})",
            max, cancellationToken);
        var claimed = new List<PaymentRecord>();
        foreach (var entity in due)
        {
            var etag = await CurrentETagAsync(Str(entity, "PartitionKey"), cancellationToken);
            entity["LeaseUntil"] = Time(leaseUntil);
            entity.Remove("Timestamp");
            try
            {
                await tables.ReplaceAsync(tableName, entity, etag ?? "", cancellationToken);
                claimed.Add(FromEntity(entity));
            }
            catch (TableException e) when (e.IsPreconditionFailed || e.IsNotFound)
            {
                // another worker leased it first
            }
        }
        return claimed;
    }

    public async Task ReleaseLeasesAsync(CancellationToken cancellationToken)
    {
        foreach (var entity in await tables.QueryAsync(tableName, "Status eq 'Pending' and LeaseUntil ne ''", null, cancellationToken))
        {
            await TransitionAsync(Str(entity, "PartitionKey"), e => Str(e, "Status") == nameof(PaymentStatus.Pending), e => e["LeaseUntil"] = "", cancellationToken);
        }
    }

    public async Task<IReadOnlyList<PaymentRecord>> FindStaleAsync(DateTimeOffset before, int max, CancellationToken cancellationToken) =>
        (await tables.QueryAsync(tableName, $"(Status eq 'Reserved' or Status eq 'Settling') and UpdatedAt lt {TableClient.Literal(Time(before))}", max, cancellationToken))
            .Select(FromEntity).OrderBy(p => p.UpdatedAt).ToList();

    public async Task<IReadOnlyList<PaymentRecord>> ListAsync(string organisationId, PaymentQuery query, CancellationToken cancellationToken)
    {
        var filter = $"OrganisationId eq {TableClient.Literal(organisationId)}";
        if (query.Status is { } status)
        {
            filter += $" and Status eq {TableClient.Literal(status.ToString())}";
        }
        if (query.LinkId is { } link)
        {
            filter += $" and LinkId eq {TableClient.Literal(link)}";
        }
        if (query.Before is { } before)
        {
            filter += $" and CreatedAt lt {TableClient.Literal(Time(before))}";
        }
        // Table Storage orders by key, not by time: read the organisation's matches and sort them here.
        return (await tables.QueryAsync(tableName, filter, null, cancellationToken)).Select(FromEntity)
            .OrderByDescending(p => p.CreatedAt).ThenBy(p => p.Id, StringComparer.Ordinal).Take(Math.Clamp(query.Limit, 1, 500)).ToList();
    }

    // Table Storage cannot aggregate: the organisation's rows are read and summed here.
    public async Task<IReadOnlyList<PaymentTotals>> TotalsByLinkAsync(string organisationId, CancellationToken cancellationToken) =>
        PaymentTotals.Aggregate((await tables.QueryAsync(tableName, $"OrganisationId eq {TableClient.Literal(organisationId)}", null, cancellationToken))
            .Select(FromEntity).Select(p => (p.LinkId, p.Network, p.Status, p.Amount)));

    public async Task<IReadOnlyList<PaymentRecord>> ListByLinkPrefixAsync(string prefix, PaymentStatus status, int max, CancellationToken cancellationToken) =>
        (await tables.QueryAsync(tableName,
            $"LinkId ge {TableClient.Literal(prefix)} and LinkId lt {TableClient.Literal(prefix + "\uffff")} and Status eq {TableClient.Literal(status.ToString())}", null, cancellationToken))
            .Select(FromEntity).OrderByDescending(p => p.UpdatedAt).Take(max).ToList();

    public async Task<PayerHistory> GetPayerHistoryAsync(string payer, string organisationId, CancellationToken cancellationToken)
    {
        var rows = await tables.QueryAsync(tableName,
            $"Payer eq {TableClient.Literal(payer)} and ((Status eq 'Settled' and OrganisationId eq {TableClient.Literal(organisationId)}) or Mode eq 'deferred')",
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

    private static bool StartsFrom(PaymentTransition transition, JsonObject entity) =>
        Enum.TryParse<PaymentStatus>(Str(entity, "Status"), out var status) && transition.StartsFrom(status);

    /// <summary>Read, check, change, replace on the ETag; a concurrent writer makes it read again.</summary>
    private async Task<bool> TransitionAsync(string id, Func<JsonObject, bool> allowed, Action<JsonObject> change, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            if (await tables.GetAsync(tableName, id, Row, cancellationToken) is not { } found || !allowed(found.Entity))
            {
                return false;
            }
            var entity = found.Entity;
            entity.Remove("Timestamp");
            change(entity);
            try
            {
                await tables.ReplaceAsync(tableName, entity, found.ETag, cancellationToken);
                return true;
            }
            catch (TableException e) when (e.IsPreconditionFailed)
            {
                // lost a race: the next read decides
            }
        }
        return false;
    }

    private async Task<string?> CurrentETagAsync(string id, CancellationToken cancellationToken) =>
        (await tables.GetAsync(tableName, id, Row, cancellationToken))?.ETag;

    private static JsonObject ToEntity(PaymentRecord p) => new()
    {
        ["PartitionKey"] = p.Id,
        ["RowKey"] = Row,
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

    private static PaymentRecord FromEntity(JsonObject e) => new()
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
        X402Version = (int?)e["X402Version"] ?? 2,
        Status = Enum.Parse<PaymentStatus>(Str(e, "Status")),
        Mode = Str(e, "Mode"),
        Facilitator = Str(e, "Facilitator"),
        SettleRequest = OptStr(e, "SettleRequest"),
        ValidBefore = OptLong(e, "ValidBefore") ?? 0,
        Attempts = (int?)e["Attempts"] ?? 0,
        NextAttemptAt = OptStr(e, "NextAttemptAt") is { Length: > 0 } n ? DateTimeOffset.Parse(n, System.Globalization.CultureInfo.InvariantCulture) : null,
        LastError = OptStr(e, "LastError"),
        Transaction = OptStr(e, "Transaction") is { Length: > 0 } t ? t : null,
        FailureReason = OptStr(e, "FailureReason"),
        ContentOwed = Bool(e, "ContentOwed"),
        CreatedAt = Time(e, "CreatedAt"),
        UpdatedAt = Time(e, "UpdatedAt"),
    };
}
