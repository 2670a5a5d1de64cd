using Azure;
using Azure.Data.Tables;
using X402Serverless.AzureStorage.Tables;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Stripe;
using static X402Serverless.AzureStorage.Tables.EntityFields;

namespace X402Serverless.AzureStorage;

/// <summary>Fulfilled card payments (partition = PaymentIntent id); the taken-back total moves by an ETag-checked replace.</summary>
public sealed class TableCardChargeStore(TableServiceClient service, string table = "cardcharges") : ICardChargeStore
{
    private const string Row = "c";
    private readonly TableClient _table = service.GetTableClient(table);

    public async Task InitializeAsync(CancellationToken cancellationToken) => await _table.CreateIfNotExistsAsync(cancellationToken);

    public async Task<bool> AddAsync(CardCharge charge, CancellationToken cancellationToken)
    {
        var entity = new TableEntity(charge.PaymentIntentId, Row)
        {
            ["SessionId"] = charge.SessionId,
            ["TakenBack"] = charge.TakenBackCents,
            ["Previous"] = charge.PreviousCents,
            ["Reason"] = charge.Reason,
            ["CreatedAt"] = charge.CreatedAt.ToUniversalTime(),
        };
        try
        {
            await _table.AddEntityAsync(entity, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.IsConflict())
        {
            return false;
        }
    }

    public async Task<CardCharge?> GetAsync(string paymentIntentId, CancellationToken cancellationToken) =>
        await _table.FindAsync(paymentIntentId, Row, cancellationToken) is not { } e ? null : new CardCharge
        {
            PaymentIntentId = e.PartitionKey,
            SessionId = Str(e, "SessionId"),
            TakenBackCents = e.GetInt64("TakenBack") ?? 0,
            PreviousCents = e.GetInt64("Previous") ?? 0,
            Reason = e.GetString("Reason"),
            RefundedCents = e.GetInt64("Refunded") ?? 0,
            DisputedCents = e.GetInt64("Disputed") ?? 0,
            CreatedAt = e.GetDateTimeOffset("CreatedAt") ?? throw new InvalidDataException("Entity lacks CreatedAt."),
        };

    public async Task<bool> AdvanceAsync(string paymentIntentId, long fromCents, long toCents, string reason, long refundedCents, long disputedCents,
        CancellationToken cancellationToken)
    {
        if (await _table.FindAsync(paymentIntentId, Row, cancellationToken) is not { } entity || (entity.GetInt64("TakenBack") ?? 0) != fromCents)
        {
            return false;
        }
        entity["TakenBack"] = toCents;
        entity["Previous"] = fromCents;
        entity["Reason"] = reason;
        entity["Refunded"] = refundedCents;
        entity["Disputed"] = disputedCents;
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
}
