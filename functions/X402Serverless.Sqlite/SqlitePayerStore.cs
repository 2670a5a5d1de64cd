using Microsoft.Data.Sqlite;
using X402Serverless.Core.Payers;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Money;

namespace X402Serverless.Sqlite;

public sealed class SqlitePayerStore(SqliteDatabase database) : IPayerStore
{
    private const string Columns = "p.id, p.organisation_id, p.name, p.monthly_allowance, p.monthly_cap, p.credit_limit, p.created_at";

    public async Task CreateAsync(Payer payer, PayerKey key, string keyHash, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = """
                INSERT INTO payers (id, organisation_id, name, monthly_allowance, monthly_cap, credit_limit, created_at)
                VALUES ($id, $org, $name, $allowance, $cap, $limit, $created);
                """;
            Bind(command, payer);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await InsertKeyAsync(connection, transaction, key, keyHash, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task AddKeyAsync(PayerKey key, string keyHash, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await InsertKeyAsync(connection, null, key, keyHash, cancellationToken);
    }

    public async Task<IReadOnlyList<PayerKey>> ListKeysAsync(string payerId, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, payer_id, prefix, created_at FROM payer_keys WHERE payer_id = $payer ORDER BY created_at, id;";
        command.Parameters.AddWithValue("$payer", payerId);
        await using var r = await command.ExecuteReaderAsync(cancellationToken);
        var keys = new List<PayerKey>();
        while (await r.ReadAsync(cancellationToken))
        {
            keys.Add(new PayerKey(r.GetString(0), r.GetString(1), r.GetString(2), SqliteText.Time(r.GetString(3))));
        }
        return keys;
    }

    public async Task<bool> RevokeKeyAsync(string payerId, string keyId, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM payer_keys WHERE id = $id AND payer_id = $payer;";
        command.Parameters.AddWithValue("$id", keyId);
        command.Parameters.AddWithValue("$payer", payerId);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<Payer?> FindByKeyHashAsync(string keyHash, CancellationToken cancellationToken) =>
        (await QueryAsync($"SELECT {Columns} FROM payer_keys k JOIN payers p ON p.id = k.payer_id WHERE k.key_hash = $v;", keyHash, cancellationToken)).FirstOrDefault();

    public async Task<Payer?> GetAsync(string id, CancellationToken cancellationToken) =>
        (await QueryAsync($"SELECT {Columns} FROM payers p WHERE p.id = $v;", id, cancellationToken)).FirstOrDefault();

    public async Task<IReadOnlyList<Payer>> ListAsync(string organisationId, CancellationToken cancellationToken) =>
        await QueryAsync($"SELECT {Columns} FROM payers p WHERE p.organisation_id = $v ORDER BY p.created_at, p.id;", organisationId, cancellationToken);

    public async Task<bool> UpdateAsync(Payer payer, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            UPDATE payers SET name = $name, monthly_allowance = $allowance, monthly_cap = $cap, credit_limit = $limit
            WHERE id = $id AND organisation_id = $org;
            """;
        Bind(command, payer);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<IReadOnlyList<string>> OrganisationsWithAllowancesAsync(CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT DISTINCT organisation_id FROM payers WHERE monthly_allowance > 0 ORDER BY organisation_id;";
        await using var r = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<string>();
        while (await r.ReadAsync(cancellationToken))
        {
            list.Add(r.GetString(0));
        }
        return list;
    }

    public async Task<Usd?> MonthlyBudgetAsync(string organisationId, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT monthly_budget FROM organisations WHERE id = $id;";
        command.Parameters.AddWithValue("$id", organisationId);
        var value = await command.ExecuteScalarAsync(cancellationToken);
        return value is null or DBNull ? null : Usd.FromMicros(Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture));
    }

    public async Task SetMonthlyBudgetAsync(string organisationId, Usd? budget, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE organisations SET monthly_budget = $b WHERE id = $id;";
        command.Parameters.AddWithValue("$id", organisationId);
        command.Parameters.AddWithValue("$b", (object?)budget?.Micros ?? DBNull.Value);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static void Bind(SqliteCommand command, Payer payer)
    {
        command.Parameters.AddWithValue("$id", payer.Id);
        command.Parameters.AddWithValue("$org", payer.OrganisationId);
        command.Parameters.AddWithValue("$name", payer.Name);
        command.Parameters.AddWithValue("$allowance", payer.MonthlyAllowance.Micros);
        command.Parameters.AddWithValue("$cap", (object?)payer.MonthlyCap?.Micros ?? DBNull.Value);
        command.Parameters.AddWithValue("$limit", payer.CreditLimit.Micros);
        command.Parameters.AddWithValue("$created", SqliteText.Time(payer.CreatedAt));
    }

    private static async Task InsertKeyAsync(SqliteConnection connection, SqliteTransaction? transaction, PayerKey key, string keyHash, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO payer_keys (id, payer_id, key_hash, prefix, created_at) VALUES ($id, $payer, $hash, $prefix, $created);";
        command.Parameters.AddWithValue("$id", key.Id);
        command.Parameters.AddWithValue("$payer", key.PayerId);
        command.Parameters.AddWithValue("$hash", keyHash);
        command.Parameters.AddWithValue("$prefix", key.Prefix);
        command.Parameters.AddWithValue("$created", SqliteText.Time(key.CreatedAt));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<List<Payer>> QueryAsync(string sql, string value, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$v", value);
        await using var r = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<Payer>();
        while (await r.ReadAsync(cancellationToken))
        {
            list.Add(new Payer
            {
                Id = r.GetString(0),
                OrganisationId = r.GetString(1),
                Name = r.GetString(2),
                MonthlyAllowance = Usd.FromMicros(r.GetInt64(3)),
                MonthlyCap = r.IsDBNull(4) ? null : Usd.FromMicros(r.GetInt64(4)),
                CreditLimit = Usd.FromMicros(r.GetInt64(5)),
                CreatedAt = SqliteText.Time(r.GetString(6)),
            });
        }
        return list;
    }
}
