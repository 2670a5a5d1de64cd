using System.Text.Json.Nodes;
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
public sealed class TableKycStore(TableClient tables, string recordsTable = "kycrecords", string walletsTable = "kycwallets") : IKycStore
{
    private const string Row = "item";

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await tables.CreateTableIfMissingAsync(recordsTable, cancellationToken);
        await tables.CreateTableIfMissingAsync(walletsTable, cancellationToken);
    }

    public async Task<KycRecord?> GetAsync(string subjectId, CancellationToken cancellationToken) =>
        await tables.GetAsync(recordsTable, subjectId, Row, cancellationToken) is { } found ? FromEntity(found.Entity) : null;

    public async Task<KycRecord?> FindByWalletAsync(string address, CancellationToken cancellationToken)
    {
        var lower = address.ToLowerInvariant();
        if (await tables.GetAsync(walletsTable, lower, Row, cancellationToken) is not { } wallet)
        {
            return null;
        }
        var record = await GetAsync(Str(wallet.Entity, "SubjectId"), cancellationToken);
        return record is not null && record.Wallets.Contains(lower) ? record : null;
    }

    public async Task<bool> SaveIfNewerAsync(KycRecord record, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var current = await tables.GetAsync(recordsTable, record.SubjectId, Row, cancellationToken);
            var previous = current is { } c ? FromEntity(c.Entity) : null;
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
                if (current is { } existing)
                {
                    await tables.ReplaceAsync(recordsTable, ToEntity(record), existing.ETag, cancellationToken);
                }
                else
                {
                    await tables.InsertAsync(recordsTable, ToEntity(record), cancellationToken);
                }
            }
            catch (TableException e) when (e.IsConflict || e.IsPreconditionFailed)
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
            await tables.UpsertAsync(walletsTable, new JsonObject { ["PartitionKey"] = wallet, ["RowKey"] = Row, ["SubjectId"] = record.SubjectId }, cancellationToken);
        }
        foreach (var dropped in previousWallets.Except(record.Wallets))
        {
            if (await tables.GetAsync(walletsTable, dropped, Row, cancellationToken) is { } row && Str(row.Entity, "SubjectId") == record.SubjectId)
            {
                await tables.DeleteAsync(walletsTable, dropped, Row, row.ETag, cancellationToken);
            }
        }
    }

    private static JsonObject ToEntity(KycRecord r) => new()
    {
        ["PartitionKey"] = r.SubjectId,
        ["RowKey"] = Row,
        ["Status"] = r.Status,
        ["Level"] = r.Level,
        ["Country"] = r.Country,
        ["Reference"] = r.Reference,
        ["Wallets"] = List(r.Wallets),
        ["DecidedAt"] = Time(r.DecidedAt),
    };

    private static KycRecord FromEntity(JsonObject e) => new()
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
