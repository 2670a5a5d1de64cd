using Azure;
using Azure.Data.Tables;
using X402Serverless.AzureStorage.Tables;
using X402Serverless.Core.Kyc;
using X402Serverless.Core.Ports;
using static X402Serverless.AzureStorage.Tables.EntityFields;

namespace X402Serverless.AzureStorage;

/// <summary>
/// KYC records (partition = subject id, ETag-guarded so an older decision never overwrites a newer one) and a wallet
/// index (partition = address: one point read per x402 payment on a link that asks for KYC). The record is the truth:
/// a wallet row only counts while the record it points at still lists the wallet.
/// </summary>
public sealed class TableKycStore(TableServiceClient service, string recordsTable = "kycrecords", string walletsTable = "kycwallets") : IKycStore
{
    private const string Row = "item";
    private readonly TableClient _records = service.GetTableClient(recordsTable);
    private readonly TableClient _wallets = service.GetTableClient(walletsTable);

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await _records.CreateIfNotExistsAsync(cancellationToken);
        await _wallets.CreateIfNotExistsAsync(cancellationToken);
    }

    public async Task<KycRecord?> GetAsync(string subjectId, CancellationToken cancellationToken) =>
        await _records.FindAsync(subjectId, Row, cancellationToken) is { } found ? FromEntity(found) : null;

    public async Task<KycRecord?> FindByWalletAsync(string address, CancellationToken cancellationToken)
    {
        var lower = address.ToLowerInvariant();
        if (await _wallets.FindAsync(lower, Row, cancellationToken) is not { } wallet)
        {
            return null;
        }
        var record = await GetAsync(Str(wallet, "SubjectId"), cancellationToken);
        return record is not null && record.Wallets.Contains(lower) ? record : null;
    }

    public async Task<bool> SaveIfNewerAsync(KycRecord record, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var current = await _records.FindAsync(record.SubjectId, Row, cancellationToken);
            var previous = current is null ? null : FromEntity(current);
            if (previous is not null && previous.DecidedAt >= record.DecidedAt)
            {
                if (previous.DecidedAt == record.DecidedAt && previous.Reference == record.Reference)
                {
                    // A redelivery after a crash between the two tables: finish the wallet index, change nothing else.
                    await IndexWalletsAsync(previous, [], cancellationToken);
                }
                return false;
            }
            try
            {
                if (current is not null)
                {
                    await _records.UpdateEntityAsync(ToEntity(record), current.ETag, TableUpdateMode.Replace, cancellationToken);
                }
                else
                {
                    await _records.AddEntityAsync(ToEntity(record), cancellationToken);
                }
            }
            catch (RequestFailedException e) when (e.IsConflict() || e.IsPreconditionFailed())
            {
                continue;
            }
            await IndexWalletsAsync(record, previous?.Wallets ?? [], cancellationToken);
            return true;
        }
        throw new InvalidOperationException($"KYC record of {record.SubjectId} kept changing; the event stays queued.");
    }

    private async Task IndexWalletsAsync(KycRecord record, IReadOnlyList<string> previousWallets, CancellationToken cancellationToken)
    {
        foreach (var wallet in record.Wallets)
        {
            await _wallets.UpsertEntityAsync(new TableEntity(wallet, Row) { ["SubjectId"] = record.SubjectId }, TableUpdateMode.Replace, cancellationToken);
        }
        foreach (var dropped in previousWallets.Except(record.Wallets))
        {
            if (await _wallets.FindAsync(dropped, Row, cancellationToken) is { } row && Str(row, "SubjectId") == record.SubjectId)
            {
                await _wallets.DeleteEntityAsync(dropped, Row, row.ETag, cancellationToken);
            }
        }
    }

    private static TableEntity ToEntity(KycRecord r) => new(r.SubjectId, Row)
    {
        ["Status"] = r.Status,
        ["Level"] = r.Level,
        ["Country"] = r.Country,
        ["Reference"] = r.Reference,
        ["Wallets"] = List(r.Wallets),
        ["DecidedAt"] = Time(r.DecidedAt),
    };

    private static KycRecord FromEntity(TableEntity e) => new()
    {
        SubjectId = Str(e, "PartitionKey"),
        Status = Str(e, "Status"),
        Level = Str(e, "Level"),
        Country = OptStr(e, "Country"),
        Reference = Str(e, "Reference"),
        Wallets = List(e, "Wallets"),
        DecidedAt = Time(e, "DecidedAt"),
    };
}
