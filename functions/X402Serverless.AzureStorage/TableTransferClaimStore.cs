using Azure;
using Azure.Data.Tables;
using X402Serverless.AzureStorage.Tables;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Transfers;
using static X402Serverless.AzureStorage.Tables.EntityFields;

namespace X402Serverless.AzureStorage;

/// <summary>
/// Transaction hashes presented as payments (partition = hash), kept for good once consumed. A claim is an insert, or
/// an ETag-checked replace of an unconsumed entry whose lease ended, so of concurrent claims exactly one wins;
/// consuming and releasing are ETag-checked against the owner read.
/// </summary>
public sealed class TableTransferClaimStore(TableServiceClient service, string table = "transferclaims") : ITransferClaimStore
{
    private const string Row = "claim";
    private readonly TableClient _table = service.GetTableClient(table);

    public async Task InitializeAsync(CancellationToken cancellationToken) => await _table.CreateIfNotExistsAsync(cancellationToken);

    public async Task<TransferClaimOutcome> ClaimAsync(TransferClaim claim, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var entity = await _table.FindAsync(claim.TxHash, Row, cancellationToken);
        try
        {
            if (entity is null)
            {
                await _table.AddEntityAsync(ToEntity(claim with { Consumed = false, PaymentId = null }), cancellationToken);
                return TransferClaimOutcome.Claimed;
            }
            var found = FromEntity(entity);
            if (found.Consumed)
            {
                return TransferClaimOutcome.Consumed;
            }
            if (found.LeaseUntil > now)
            {
                return TransferClaimOutcome.Held;
            }
            await _table.UpdateEntityAsync(ToEntity(claim with { Consumed = false, PaymentId = null }), entity.ETag, TableUpdateMode.Replace, cancellationToken);
            return TransferClaimOutcome.Claimed;
        }
        catch (RequestFailedException e) when (e.IsConflict() || e.IsPreconditionFailed() || e.IsNotFound())
        {
            // Another claim (or a consume) won between the read and the write: report what is there now.
            return await _table.FindAsync(claim.TxHash, Row, cancellationToken) is { } current && Bool(current, "Consumed")
                ? TransferClaimOutcome.Consumed : TransferClaimOutcome.Held;
        }
    }

    public async Task<bool> ConsumeAsync(string txHash, string owner, string paymentId, CancellationToken cancellationToken)
    {
        if (await _table.FindAsync(txHash, Row, cancellationToken) is not { } entity || Str(entity, "Owner") != owner || Bool(entity, "Consumed"))
        {
            return false;
        }
        try
        {
            await _table.UpdateEntityAsync(ToEntity(FromEntity(entity) with { Consumed = true, PaymentId = paymentId }), entity.ETag, TableUpdateMode.Replace, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.IsPreconditionFailed() || e.IsNotFound())
        {
            return false;
        }
    }

    public async Task ReleaseAsync(string txHash, string owner, CancellationToken cancellationToken)
    {
        if (await _table.FindAsync(txHash, Row, cancellationToken) is { } entity && Str(entity, "Owner") == owner && !Bool(entity, "Consumed"))
        {
            // The ETag keeps a claim made since the read (after this one's lease ended) in place.
            await _table.DeleteEntityAsync(entity.PartitionKey, Row, entity.ETag, cancellationToken).IgnoreStale();
        }
    }

    public async Task<TransferClaim?> GetAsync(string txHash, CancellationToken cancellationToken) =>
        await _table.FindAsync(txHash, Row, cancellationToken) is { } entity ? FromEntity(entity) : null;

    // A hash is 0x and hex: none of the characters a partition key forbids.
    private static TableEntity ToEntity(TransferClaim claim)
    {
        var entity = new TableEntity(claim.TxHash, Row)
        {
            ["Owner"] = claim.Owner,
            ["LinkId"] = claim.LinkId,
            ["LeaseUntil"] = claim.LeaseUntil.ToUniversalTime(),
            ["Consumed"] = claim.Consumed,
        };
        if (claim.PaymentId is not null)
        {
            entity["PaymentId"] = claim.PaymentId;
        }
        return entity;
    }

    private static TransferClaim FromEntity(TableEntity e) => new()
    {
        TxHash = e.PartitionKey,
        Owner = Str(e, "Owner"),
        LinkId = Str(e, "LinkId"),
        LeaseUntil = e.GetDateTimeOffset("LeaseUntil") ?? throw new InvalidDataException("Entity lacks LeaseUntil."),
        Consumed = Bool(e, "Consumed"),
        PaymentId = e.GetString("PaymentId"),
    };
}
