using Azure;
using Azure.Data.Tables;
using X402Serverless.AzureStorage.Tables;
using X402Serverless.Core.Money;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Stripe;
using static X402Serverless.AzureStorage.Tables.EntityFields;

namespace X402Serverless.AzureStorage;

/// <summary>Card top-up checkouts (partition = Stripe session id): an insert, so the first record of a session is kept.</summary>
public sealed class TableCardTopUpStore(TableServiceClient service, string table = "cardtopups") : ICardTopUpStore
{
    private const string Row = "t";
    private readonly TableClient _table = service.GetTableClient(table);

    public async Task InitializeAsync(CancellationToken cancellationToken) => await _table.CreateIfNotExistsAsync(cancellationToken);

    public async Task<bool> AddAsync(CardTopUp topUp, CancellationToken cancellationToken)
    {
        var entity = new TableEntity(topUp.SessionId, Row)
        {
            ["Kind"] = topUp.Kind,
            ["AccountId"] = topUp.AccountId,
            ["Amount"] = topUp.Amount.Micros,
            ["Currency"] = topUp.Currency,
            ["CreatedAt"] = topUp.CreatedAt.ToUniversalTime(),
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

    public async Task<CardTopUp?> GetAsync(string sessionId, CancellationToken cancellationToken) =>
        await _table.FindAsync(sessionId, Row, cancellationToken) is not { } e ? null : FromEntity(e);

    public async Task<IReadOnlyList<CardTopUp>> OpenedBetweenAsync(DateTimeOffset since, DateTimeOffset before, int max, CancellationToken cancellationToken) =>
        (await _table.ListAsync(TableClient.CreateQueryFilter($"CreatedAt ge {since.ToUniversalTime()} and CreatedAt lt {before.ToUniversalTime()}"), null, cancellationToken))
            .Select(FromEntity).OrderBy(t => t.CreatedAt).ThenBy(t => t.SessionId, StringComparer.Ordinal).Take(max).ToList();

    public Task<bool> MarkPaidAsync(string sessionId, CancellationToken cancellationToken) =>
        CheckoutPaidMarks.MarkPaidAsync(_table, sessionId, Row, cancellationToken);

    public Task<bool> DeleteUnpaidAsync(string sessionId, CancellationToken cancellationToken) =>
        CheckoutPaidMarks.DeleteUnpaidAsync(_table, sessionId, Row, cancellationToken);

    private static CardTopUp FromEntity(TableEntity e) => new()
    {
        SessionId = e.PartitionKey,
        Kind = Str(e, "Kind"),
        AccountId = Str(e, "AccountId"),
        Amount = Usd.FromMicros(e.GetInt64("Amount") ?? throw new InvalidDataException("Entity lacks Amount.")),
        Currency = Str(e, "Currency"),
        CreatedAt = e.GetDateTimeOffset("CreatedAt") ?? throw new InvalidDataException("Entity lacks CreatedAt."),
    };
}
