using Azure;
using Azure.Data.Tables;
using X402Serverless.AzureStorage.Tables;
using X402Serverless.Core.Money;
using X402Serverless.Core.Passes;
using X402Serverless.Core.Ports;
using static X402Serverless.AzureStorage.Tables.EntityFields;

namespace X402Serverless.AzureStorage;

/// <summary>
/// Passes (partition = link id, row = pass id; beside them the spends not yet concluded), card checkouts selling them (partition = Stripe session id) and used
/// sign-in-with-x nonces (partition = nonce). Every change is
/// an ETag-checked write of what was read, retried on a lost race: of concurrent spends of a last call the first
/// write wins and the others, reading again, find nothing left.
/// </summary>
public sealed class TablePassStore(TableServiceClient service, string table = "passes", string noncesTable = "siwxnonces", string checkoutsTable = "passcheckouts")
    : IPassStore
{
    private const string NonceRow = "n";
    private const string CheckoutRow = "c";

    // Rows beside a link's passes recording calls given back once (GiveBackOnceAsync), and calls taken and not yet
    // concluded or given back (spends); pass ids start "pas_".
    private const string GiveBackRowPrefix = "giveback_";
    private const string SpendRowPrefix = "spend_";
    private const string SpendRowEnd = "spend`"; // '`' follows '_': every spend row sorts before it
    private readonly TableClient _table = service.GetTableClient(table);
    private readonly TableClient _nonces = service.GetTableClient(noncesTable);
    private readonly TableClient _checkouts = service.GetTableClient(checkoutsTable);

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await _table.CreateIfNotExistsAsync(cancellationToken);
        await _nonces.CreateIfNotExistsAsync(cancellationToken);
        await _checkouts.CreateIfNotExistsAsync(cancellationToken);
    }

    public async Task<bool> AddAsync(Pass pass, CancellationToken cancellationToken)
    {
        try
        {
            await _table.AddEntityAsync(ToEntity(pass), cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.IsConflict())
        {
            return false;
        }
    }

    public async Task<Pass?> GetAsync(string linkId, string id, CancellationToken cancellationToken) =>
        !IsPassRow(id) ? null // a spend's or a give-back's row beside the passes is no pass
            : await _table.FindAsync(linkId, id, cancellationToken) is { } entity ? FromEntity(entity) : null;

    private static bool IsPassRow(string rowKey) =>
        !rowKey.StartsWith(GiveBackRowPrefix, StringComparison.Ordinal) && !rowKey.StartsWith(SpendRowPrefix, StringComparison.Ordinal);

    public async Task<IReadOnlyList<Pass>> ListForLinkAsync(string linkId, int max, CancellationToken cancellationToken) =>
        Newest(await _table.ListAsync(TableClient.CreateQueryFilter($"PartitionKey eq {linkId}"), null, cancellationToken), max);

    public async Task<IReadOnlyList<Pass>> ListForHolderAsync(string holder, string? linkId, int max, CancellationToken cancellationToken)
    {
        var filter = linkId is null
            ? TableClient.CreateQueryFilter($"Holder eq {holder}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {linkId} and Holder eq {holder}");
        return Newest(await _table.ListAsync(filter, null, cancellationToken), max);
    }

    public async Task<bool> RevokeAsync(string linkId, string id, DateTimeOffset at, string reason, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (await _table.FindAsync(linkId, id, cancellationToken) is not { } entity || entity.ContainsKey("RevokedAt"))
            {
                return false;
            }
            entity["RevokedAt"] = at.ToUniversalTime();
            entity["RevokedReason"] = reason;
            if (await TryReplaceAsync(entity, cancellationToken))
            {
                return true;
            }
        }
    }

    public async Task<Pass?> TrySpendAsync(string linkId, string holder, DateTimeOffset now, string spendId, CancellationToken cancellationToken)
    {
        // The spend's record sits in the pass's partition: it and the call taken are one entity-group transaction.
        var record = new TableEntity(linkId, SpendRowPrefix + spendId) { ["CreatedAt"] = now.ToUniversalTime() };
        var lost = false;
        while (true)
        {
            if (lost && await _table.FindAsync(linkId, record.RowKey, cancellationToken) is { } landed)
            {
                // This spend landed before (its answer lost, the client's retry failing against it): nothing more is taken.
                return await GetAsync(linkId, Str(landed, "PassId"), cancellationToken);
            }
            var candidates = await _table.ListAsync(TableClient.CreateQueryFilter($"PartitionKey eq {linkId} and Holder eq {holder}"), null, cancellationToken);
            var usable = candidates.Select(e => (Entity: e, Pass: FromEntity(e)))
                .Where(c => c.Pass.Status(now) == PassStatuses.Active)
                .OrderBy(c => c.Pass.ExpiresAt ?? DateTimeOffset.MaxValue).ThenBy(c => c.Pass.CreatedAt)
                .FirstOrDefault();
            if (usable.Entity is null)
            {
                return null;
            }
            if (usable.Pass.CallsLeft is not { } left)
            {
                // Bounded by time alone: nothing to take.
                return usable.Pass;
            }
            usable.Entity["CallsLeft"] = left - 1;
            record["PassId"] = usable.Pass.Id;
            try
            {
                await _table.SubmitTransactionAsync(
                [
                    new TableTransactionAction(TableTransactionActionType.UpdateReplace, usable.Entity, usable.Entity.ETag),
                    new TableTransactionAction(TableTransactionActionType.Add, record),
                ], cancellationToken);
                return usable.Pass with { CallsLeft = left - 1 };
            }
            catch (RequestFailedException e) when (e.IsPreconditionFailed() || e.IsConflict())
            {
                // Another spend (or a revoke) wrote first, or this one did and its answer was lost: read again.
                lost = true;
            }
        }
    }

    public async Task<bool> ConcludeSpendAsync(string linkId, string spendId, CancellationToken cancellationToken)
    {
        while (await _table.FindAsync(linkId, SpendRowPrefix + spendId, cancellationToken) is { } record)
        {
            if (record.ContainsKey("GivenBackAt"))
            {
                return false;
            }
            // Deleted only as read, so a give-back in between is seen; a retried delete finding it gone is kept all the same.
            if (await _table.DeleteEntityAsync(linkId, record.RowKey, record.ETag, cancellationToken).IgnoreStale())
            {
                return true;
            }
        }
        return true; // no record: kept before
    }

    public async Task<bool> GiveBackSpendAsync(string linkId, string spendId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        while (await _table.FindAsync(linkId, SpendRowPrefix + spendId, cancellationToken) is { } record && !record.ContainsKey("GivenBackAt"))
        {
            record["GivenBackAt"] = now.ToUniversalTime();
            var actions = new List<TableTransactionAction> { new(TableTransactionActionType.UpdateReplace, record, record.ETag) };
            if (await _table.FindAsync(linkId, Str(record, "PassId"), cancellationToken) is { } pass && OptInt(pass, "CallsLeft") is { } left)
            {
                pass["CallsLeft"] = left + 1;
                actions.Add(new(TableTransactionActionType.UpdateReplace, pass, pass.ETag));
            }
            try
            {
                await _table.SubmitTransactionAsync(actions, cancellationToken);
                return true;
            }
            catch (RequestFailedException e) when (e.IsPreconditionFailed() || e.IsNotFound())
            {
                // Another write to the pass or the spend came first: read again.
            }
        }
        return false; // kept or given back before
    }

    public async Task<SpendState> SpendStateAsync(string linkId, string spendId, CancellationToken cancellationToken) =>
        await _table.FindAsync(linkId, SpendRowPrefix + spendId, cancellationToken) switch
        {
            null => SpendState.Kept,
            { } record when record.ContainsKey("GivenBackAt") => SpendState.GivenBack,
            _ => SpendState.Taken,
        };

    public async Task<IReadOnlyList<(string LinkId, string SpendId)>> StaleSpendsAsync(DateTimeOffset before, int max, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"RowKey ge {SpendRowPrefix} and RowKey lt {SpendRowEnd} and CreatedAt lt {before.ToUniversalTime()}");
        return (await _table.ListAsync(filter, null, cancellationToken))
            .Where(e => !e.ContainsKey("GivenBackAt"))
            .OrderBy(e => e.GetDateTimeOffset("CreatedAt")).Take(max)
            .Select(e => (e.PartitionKey, e.RowKey[SpendRowPrefix.Length..])).ToList();
    }

    public async Task<int> ForgetGivenBackSpendsAsync(DateTimeOffset before, int max, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"RowKey ge {SpendRowPrefix} and RowKey lt {SpendRowEnd} and GivenBackAt lt {before.ToUniversalTime()}");
        var forgotten = 0;
        foreach (var record in await _table.ListAsync(filter, max, cancellationToken))
        {
            if (await _table.DeleteEntityAsync(record.PartitionKey, record.RowKey, record.ETag, cancellationToken).IgnoreStale())
            {
                forgotten++;
            }
        }
        return forgotten;
    }

    public async Task<bool> GiveBackOnceAsync(string linkId, string passId, string key, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // The key's record sits in the pass's partition, so it and the call are one entity-group transaction: both
        // land or neither does.
        var record = new TableEntity(linkId, GiveBackRowPrefix + key) { ["PassId"] = passId, ["CreatedAt"] = now.ToUniversalTime() };
        while (true)
        {
            var pass = await _table.FindAsync(linkId, passId, cancellationToken);
            var actions = new List<TableTransactionAction> { new(TableTransactionActionType.Add, record) };
            if (pass is not null && OptInt(pass, "CallsLeft") is { } left)
            {
                pass["CallsLeft"] = left + 1;
                actions.Add(new(TableTransactionActionType.UpdateReplace, pass, pass.ETag));
            }
            try
            {
                await _table.SubmitTransactionAsync(actions, cancellationToken);
                return true;
            }
            catch (RequestFailedException e) when (e.IsConflict())
            {
                // The key's record exists: given back before.
                return false;
            }
            catch (RequestFailedException e) when (e.IsPreconditionFailed())
            {
                // Another write to the pass came first: read it again.
            }
        }
    }

    public async Task<bool> UseNonceAsync(string nonce, DateTimeOffset keepUntil, CancellationToken cancellationToken)
    {
        try
        {
            await _nonces.AddEntityAsync(new TableEntity(nonce, NonceRow) { ["KeepUntil"] = keepUntil.ToUniversalTime() }, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.IsConflict())
        {
            return false;
        }
    }

    public async Task<int> DeleteExpiredNoncesAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        var expired = await _nonces.ListAsync(TableClient.CreateQueryFilter($"KeepUntil lt {now.ToUniversalTime()}"), max, cancellationToken);
        var deleted = 0;
        foreach (var entity in expired)
        {
            if (await _nonces.DeleteEntityAsync(entity.PartitionKey, entity.RowKey, entity.ETag, cancellationToken).IgnoreStale())
            {
                deleted++;
            }
        }
        return deleted;
    }

    public async Task<bool> AddCheckoutAsync(PassCheckout checkout, CancellationToken cancellationToken)
    {
        var entity = new TableEntity(checkout.SessionId, CheckoutRow)
        {
            ["LinkId"] = checkout.LinkId,
            ["OrganisationId"] = checkout.OrganisationId,
            ["Price"] = checkout.Offer.Price.Micros,
            ["Calls"] = checkout.Offer.Calls,
            ["Minutes"] = checkout.Offer.Minutes,
            ["PayerId"] = checkout.PayerId,
            ["NewKeyId"] = checkout.NewKeyId,
            ["NewKeyHash"] = checkout.NewKeyHash,
            ["CreatedAt"] = checkout.CreatedAt.ToUniversalTime(),
        };
        try
        {
            await _checkouts.AddEntityAsync(entity, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.IsConflict())
        {
            return false;
        }
    }

    public async Task<PassCheckout?> GetCheckoutAsync(string sessionId, CancellationToken cancellationToken) =>
        await _checkouts.FindAsync(sessionId, CheckoutRow, cancellationToken) is not { } e ? null : CheckoutFromEntity(e);

    public async Task<IReadOnlyList<PassCheckout>> CheckoutsOpenedBetweenAsync(DateTimeOffset since, DateTimeOffset before, int max, CancellationToken cancellationToken) =>
        (await _checkouts.ListAsync(TableClient.CreateQueryFilter($"CreatedAt ge {since.ToUniversalTime()} and CreatedAt lt {before.ToUniversalTime()}"), null, cancellationToken))
            .Select(CheckoutFromEntity).OrderBy(c => c.CreatedAt).ThenBy(c => c.SessionId, StringComparer.Ordinal).Take(max).ToList();

    public Task<bool> MarkCheckoutPaidAsync(string sessionId, CancellationToken cancellationToken) =>
        CheckoutPaidMarks.MarkPaidAsync(_checkouts, sessionId, CheckoutRow, cancellationToken);

    public Task<bool> DeleteUnpaidCheckoutAsync(string sessionId, CancellationToken cancellationToken) =>
        CheckoutPaidMarks.DeleteUnpaidAsync(_checkouts, sessionId, CheckoutRow, cancellationToken);

    private static PassCheckout CheckoutFromEntity(TableEntity e) => new()
    {
        SessionId = e.PartitionKey,
        LinkId = Str(e, "LinkId"),
        OrganisationId = Str(e, "OrganisationId"),
        Offer = new PassOffer(Usd.FromMicros(e.GetInt64("Price") ?? throw new InvalidDataException("Entity lacks Price.")), OptInt(e, "Calls"), OptInt(e, "Minutes")),
        PayerId = Str(e, "PayerId"),
        NewKeyId = OptStr(e, "NewKeyId"),
        NewKeyHash = OptStr(e, "NewKeyHash"),
        CreatedAt = e.GetDateTimeOffset("CreatedAt") ?? throw new InvalidDataException("Entity lacks CreatedAt."),
    };

    private async Task<bool> TryReplaceAsync(TableEntity entity, CancellationToken cancellationToken)
    {
        try
        {
            await _table.UpdateEntityAsync(entity, entity.ETag, TableUpdateMode.Replace, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.IsPreconditionFailed())
        {
            return false;
        }
    }

    private static List<Pass> Newest(List<TableEntity> entities, int max) =>
        entities.Where(e => IsPassRow(e.RowKey)).Select(FromEntity).OrderByDescending(p => p.CreatedAt).ThenBy(p => p.Id, StringComparer.Ordinal).Take(max).ToList();

    private static TableEntity ToEntity(Pass pass)
    {
        var entity = new TableEntity(pass.LinkId, pass.Id)
        {
            ["OrganisationId"] = pass.OrganisationId,
            ["Holder"] = pass.Holder,
            ["Price"] = pass.Price.Micros,
            ["PaymentRef"] = pass.PaymentRef,
            ["PaidWith"] = pass.PaidWith,
            ["CreatedAt"] = pass.CreatedAt.ToUniversalTime(),
        };
        if (pass.Calls is { } calls)
        {
            entity["Calls"] = calls;
            entity["CallsLeft"] = pass.CallsLeft ?? calls;
        }
        if (pass.ExpiresAt is { } expires)
        {
            entity["ExpiresAt"] = expires.ToUniversalTime();
        }
        return entity;
    }

    private static Pass FromEntity(TableEntity e) => new()
    {
        Id = e.RowKey,
        LinkId = e.PartitionKey,
        OrganisationId = Str(e, "OrganisationId"),
        Holder = Str(e, "Holder"),
        Price = Usd.FromMicros(e.GetInt64("Price") ?? throw new InvalidDataException("Entity lacks Price.")),
        PaymentRef = Str(e, "PaymentRef"),
        PaidWith = Str(e, "PaidWith"),
        Calls = OptInt(e, "Calls"),
        CallsLeft = OptInt(e, "CallsLeft"),
        ExpiresAt = e.GetDateTimeOffset("ExpiresAt"),
        RevokedAt = e.GetDateTimeOffset("RevokedAt"),
        RevokedReason = e.GetString("RevokedReason"),
        CreatedAt = e.GetDateTimeOffset("CreatedAt") ?? throw new InvalidDataException("Entity lacks CreatedAt."),
    };
}
