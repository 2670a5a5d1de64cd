using Azure;
using Azure.Data.Tables;
using X402Serverless.AzureStorage.Tables;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;
using static X402Serverless.AzureStorage.TablePaymentEntities;

namespace X402Serverless.AzureStorage;

/// <summary>
/// Payments and their settlement jobs in Table Storage. Partition = payment id (derived from the authorization), so
/// the insert is the replay guard and concurrent payers never share a partition; every state change is a conditional
/// replace on the ETag read, so two workers can never both move the same job.
/// </summary>
/// <remarks>
/// Split by concern: this file reserves and reads one payment; TablePaymentStore.Transitions moves a payment through
/// the states <see cref="PaymentTransitions"/> allows; TablePaymentStore.Jobs leases due settlement jobs; TablePaymentStore.Slots bounds a payer's deferred payments;
/// TablePaymentStore.Queries lists and totals; <see cref="TablePaymentEntities"/> maps rows to records.
/// </remarks>
public sealed partial class TablePaymentStore(TableServiceClient service, string tableName = "payments") : IPaymentStore
{
    private readonly TableClient _table = service.GetTableClient(tableName);

    // The per-payer deferred slots (TablePaymentStore.Slots).
    private readonly TableClient _slots = service.GetTableClient(tableName + "slots");

    public Task InitializeAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(_table.CreateIfNotExistsAsync(cancellationToken), _slots.CreateIfNotExistsAsync(cancellationToken));

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
}
