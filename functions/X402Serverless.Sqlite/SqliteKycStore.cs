using Microsoft.Data.Sqlite;
using X402Serverless.Core.Kyc;
using X402Serverless.Core.Ports;

namespace X402Serverless.Sqlite;

public sealed class SqliteKycStore(SqliteDatabase database) : IKycStore
{
    private const string Columns = "r.subject_id, r.status, r.level, r.country, r.reference, r.wallets, r.decided_at";

    public async Task<KycRecord?> GetAsync(string subjectId, CancellationToken cancellationToken) =>
        await QueryOneAsync($"SELECT {Columns} FROM kyc_records r WHERE r.subject_id = $v;", subjectId, cancellationToken);

    public async Task<KycRecord?> FindByWalletAsync(string address, CancellationToken cancellationToken) =>
        await QueryOneAsync($"SELECT {Columns} FROM kyc_wallets w JOIN kyc_records r ON r.subject_id = w.subject_id WHERE w.address = $v;",
            address.ToLowerInvariant(), cancellationToken);

    public async Task<bool> SaveIfNewerAsync(KycRecord record, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using (var upsert = connection.CreateCommand())
        {
            upsert.Transaction = transaction;
            upsert.CommandText = """
                INSERT INTO kyc_records (subject_id, status, level, country, reference, wallets, decided_at)
                VALUES ($subject, $status, $level, $country, $reference, $wallets, $at)
                ON CONFLICT(subject_id) DO UPDATE SET status = excluded.status, level = excluded.level, country = excluded.country,
                    reference = excluded.reference, wallets = excluded.wallets, decided_at = excluded.decided_at
                WHERE excluded.decided_at > kyc_records.decided_at;
                """;
            upsert.Parameters.AddWithValue("$subject", record.SubjectId);
            upsert.Parameters.AddWithValue("$status", record.Status);
            upsert.Parameters.AddWithValue("$level", record.Level);
            upsert.Parameters.AddWithValue("$country", (object?)record.Country ?? DBNull.Value);
            upsert.Parameters.AddWithValue("$reference", record.Reference);
            upsert.Parameters.AddWithValue("$wallets", SqliteText.List(record.Wallets));
            upsert.Parameters.AddWithValue("$at", SqliteText.Time(record.DecidedAt));
            if (await upsert.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                return false;
            }
        }
        await using (var clear = connection.CreateCommand())
        {
            clear.Transaction = transaction;
            clear.CommandText = "DELETE FROM kyc_wallets WHERE subject_id = $subject;";
            clear.Parameters.AddWithValue("$subject", record.SubjectId);
            await clear.ExecuteNonQueryAsync(cancellationToken);
        }
        foreach (var wallet in record.Wallets)
        {
            await using var claim = connection.CreateCommand();
            claim.Transaction = transaction;
            claim.CommandText = "INSERT INTO kyc_wallets (address, subject_id) VALUES ($a, $s) ON CONFLICT(address) DO UPDATE SET subject_id = excluded.subject_id;";
            claim.Parameters.AddWithValue("$a", wallet);
            claim.Parameters.AddWithValue("$s", record.SubjectId);
            await claim.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    private async Task<KycRecord?> QueryOneAsync(string sql, string value, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$v", value);
        await using var r = await command.ExecuteReaderAsync(cancellationToken);
        if (!await r.ReadAsync(cancellationToken))
        {
            return null;
        }
        return new KycRecord
        {
            SubjectId = r.GetString(0),
            Status = r.GetString(1),
            Level = r.GetString(2),
            Country = r.IsDBNull(3) ? null : r.GetString(3),
            Reference = r.GetString(4),
            Wallets = SqliteText.List(r.GetString(5)),
            DecidedAt = SqliteText.Time(r.GetString(6)),
        };
    }
}
