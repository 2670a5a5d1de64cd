using Azure;
using Azure.Data.Tables;
using X402Serverless.AzureStorage.Tables;
using X402Serverless.Core.Idempotency;
using X402Serverless.Core.Ports;
using static X402Serverless.AzureStorage.Tables.EntityFields;

namespace X402Serverless.AzureStorage;

/// <summary>
/// Payment identifiers (partition = link|payer|id). A claim is an insert, or an ETag-checked replace of an expired
/// entry, so of concurrent claims exactly one wins; completing and abandoning are ETag-checked against the owner read.
/// </summary>
public sealed class TablePaymentIdentifierStore(TableServiceClient service, string table = "paymentidentifiers") : IPaymentIdentifierStore
{
    private const string Row = "item";
    private readonly TableClient _table = service.GetTableClient(table);

    public async Task InitializeAsync(CancellationToken cancellationToken) => await _table.CreateIfNotExistsAsync(cancellationToken);

    public async Task<IdentifierClaim> ClaimAsync(IdentifiedCall entry, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var call = entry;
        var key = Key(call.LinkId, call.Payer, call.Id);
        var entity = await _table.FindAsync(key, Row, cancellationToken);
        try
        {
            if (entity is null)
            {
                await _table.AddEntityAsync(ToEntity(call), cancellationToken);
                return new(true, null);
            }
            var found = FromEntity(entity);
            if (found.ExpiresAt > now)
            {
                return new(false, found);
            }
            await _table.UpdateEntityAsync(ToEntity(call), entity.ETag, TableUpdateMode.Replace, cancellationToken);
            return new(true, found);
        }
        catch (RequestFailedException e) when (e.IsConflict() || e.IsPreconditionFailed() || e.IsNotFound())
        {
            // Another claim won between the read and the write: report what it wrote.
            return new(false, await _table.FindAsync(key, Row, cancellationToken) is { } current ? FromEntity(current) : null);
        }
    }

    public async Task<bool> CompleteAsync(IdentifiedCall completed, CancellationToken cancellationToken)
    {
        if (await _table.FindAsync(Key(completed.LinkId, completed.Payer, completed.Id), Row, cancellationToken) is not { } entity
            || Str(entity, "Owner") != completed.Owner || Bool(entity, "Completed"))
        {
            return false;
        }
        try
        {
            await _table.UpdateEntityAsync(ToEntity(completed with { Completed = true }), entity.ETag, TableUpdateMode.Replace, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.IsPreconditionFailed() || e.IsNotFound())
        {
            return false;
        }
    }

    public async Task AbandonAsync(string linkId, string payer, string id, string owner, CancellationToken cancellationToken)
    {
        if (await _table.FindAsync(Key(linkId, payer, id), Row, cancellationToken) is { } entity && Str(entity, "Owner") == owner && !Bool(entity, "Completed"))
        {
            // The ETag keeps a claim made since the read (after this one expired) in place.
            await _table.DeleteEntityAsync(entity.PartitionKey, Row, entity.ETag, cancellationToken).IgnoreStale();
        }
    }

    public async Task<IdentifiedCall?> GetAsync(string linkId, string payer, string id, CancellationToken cancellationToken) =>
        await _table.FindAsync(Key(linkId, payer, id), Row, cancellationToken) is { } entity ? FromEntity(entity) : null;

    public async Task<int> DeleteExpiredAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        var expired = await _table.ListAsync(TableClient.CreateQueryFilter($"ExpiresAt le {now.ToUniversalTime()}"), max, cancellationToken);
        var deleted = 0;
        foreach (var entity in expired)
        {
            if (await _table.DeleteEntityAsync(entity.PartitionKey, Row, entity.ETag, cancellationToken).IgnoreStale())
            {
                deleted++;
            }
        }
        return deleted;
    }

    // Link ids, wallets and identifiers hold none of the characters a partition key forbids ('/', '\', '#', '?').
    private static string Key(string linkId, string payer, string id) => $"{linkId}|{payer}|{id}";

    private static TableEntity ToEntity(IdentifiedCall call)
    {
        var entity = new TableEntity(Key(call.LinkId, call.Payer, call.Id), Row)
        {
            ["LinkId"] = call.LinkId,
            ["Payer"] = call.Payer,
            ["Id"] = call.Id,
            ["Fingerprint"] = call.Fingerprint,
            ["PaymentId"] = call.PaymentId,
            ["Owner"] = call.Owner,
            ["ExpiresAt"] = call.ExpiresAt.ToUniversalTime(),
            ["Completed"] = call.Completed,
        };
        if (call.Answer is { } answer)
        {
            entity["Status"] = answer.Status;
            entity["Headers"] = answer.Headers;
            if (answer.Body is not null)
            {
                entity["Body"] = answer.Body;
            }
        }
        return entity;
    }

    private static IdentifiedCall FromEntity(TableEntity e)
    {
        var completed = Bool(e, "Completed");
        return new IdentifiedCall
        {
            LinkId = Str(e, "LinkId"),
            Payer = Str(e, "Payer"),
            Id = Str(e, "Id"),
            Fingerprint = Str(e, "Fingerprint"),
            PaymentId = Str(e, "PaymentId"),
            Owner = Str(e, "Owner"),
            ExpiresAt = e.GetDateTimeOffset("ExpiresAt") ?? throw new InvalidDataException("Entity lacks ExpiresAt."),
            Completed = completed,
            Answer = completed ? new RecordedAnswer(e.GetInt32("Status") ?? 0, Str(e, "Headers"), e.GetBinary("Body")) : null,
        };
    }
}

internal static class StaleDeletes
{
    /// <summary>A delete that lost to a newer write (or found nothing) is not an error here: false.</summary>
    public static async Task<bool> IgnoreStale(this Task<Response> delete)
    {
        try
        {
            return (await delete).Status != 404;
        }
        catch (RequestFailedException e) when (e.IsPreconditionFailed() || e.IsNotFound())
        {
            return false;
        }
    }
}
