using Microsoft.Data.Sqlite;
using X402Serverless.Core.Access;
using X402Serverless.Core.Ports;

namespace X402Serverless.Sqlite;

public sealed class SqliteAccessStore(SqliteDatabase database) : IAccessStore
{
    public async Task<int> CountOrganisationsAsync(CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM organisations;";
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task CreateOrganisationAsync(Organisation organisation, AccessKey firstKey, string keyHash, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = "INSERT INTO organisations (id, name, is_operator, created_at) VALUES ($id, $name, $op, $created);";
            command.Parameters.AddWithValue("$id", organisation.Id);
            command.Parameters.AddWithValue("$name", organisation.Name);
            command.Parameters.AddWithValue("$op", organisation.IsOperator ? 1 : 0);
            command.Parameters.AddWithValue("$created", SqliteText.Time(organisation.CreatedAt));
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await InsertKeyAsync(connection, transaction, firstKey, keyHash, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task AddKeyAsync(AccessKey key, string keyHash, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await InsertKeyAsync(connection, null, key, keyHash, cancellationToken);
    }

    public async Task<(AccessKey Key, Organisation Organisation)?> FindByKeyHashAsync(string keyHash, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT k.id, k.organisation_id, k.prefix, k.role, k.created_at, o.name, o.is_operator, o.created_at, k.facilitator
            FROM access_keys k JOIN organisations o ON o.id = k.organisation_id WHERE k.key_hash = $hash;
            """;
        command.Parameters.AddWithValue("$hash", keyHash);
        await using var r = await command.ExecuteReaderAsync(cancellationToken);
        if (!await r.ReadAsync(cancellationToken))
        {
            return null;
        }
        var key = ReadKey(r, facilitatorColumn: 8);
        var organisation = new Organisation(r.GetString(1), r.GetString(5), r.GetInt64(6) == 1, SqliteText.Time(r.GetString(7)));
        return (key, organisation);
    }

    public Task<Organisation?> FindOrganisationAsync(string id, CancellationToken cancellationToken) =>
        FindOneAsync("SELECT id, name, is_operator, created_at FROM organisations WHERE id = $id;", id, cancellationToken);

    public Task<Organisation?> FindOperatorAsync(CancellationToken cancellationToken) =>
        FindOneAsync("SELECT id, name, is_operator, created_at FROM organisations WHERE is_operator = 1 ORDER BY created_at, id LIMIT 1;", null, cancellationToken);

    private async Task<Organisation?> FindOneAsync(string sql, string? id, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        if (id is not null)
        {
            command.Parameters.AddWithValue("$id", id);
        }
        await using var r = await command.ExecuteReaderAsync(cancellationToken);
        return await r.ReadAsync(cancellationToken)
            ? new Organisation(r.GetString(0), r.GetString(1), r.GetInt64(2) == 1, SqliteText.Time(r.GetString(3)))
            : null;
    }

    public async Task<IReadOnlyList<AccessKey>> ListKeysAsync(string organisationId, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, organisation_id, prefix, role, created_at, facilitator FROM access_keys WHERE organisation_id = $org ORDER BY created_at, id;";
        command.Parameters.AddWithValue("$org", organisationId);
        await using var r = await command.ExecuteReaderAsync(cancellationToken);
        var keys = new List<AccessKey>();
        while (await r.ReadAsync(cancellationToken))
        {
            keys.Add(ReadKey(r, facilitatorColumn: 5));
        }
        return keys;
    }

    public async Task<KeyRevocation> RevokeKeyAsync(string organisationId, string keyId, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        // One statement, so two admins revoking each other at once cannot both succeed (SQLite runs writes one at a time).
        await using var command = connection.CreateCommand();
        command.CommandText = """
            DELETE FROM access_keys WHERE id = $id AND organisation_id = $org
              AND (COALESCE(NULLIF(role, ''), 'admin') <> 'admin'
                   OR (SELECT COUNT(*) FROM access_keys WHERE organisation_id = $org AND COALESCE(NULLIF(role, ''), 'admin') = 'admin') > 1);
            """;
        command.Parameters.AddWithValue("$id", keyId);
        command.Parameters.AddWithValue("$org", organisationId);
        if (await command.ExecuteNonQueryAsync(cancellationToken) == 1)
        {
            return KeyRevocation.Revoked;
        }
        await using var exists = connection.CreateCommand();
        exists.CommandText = "SELECT COUNT(*) FROM access_keys WHERE id = $id AND organisation_id = $org;";
        exists.Parameters.AddWithValue("$id", keyId);
        exists.Parameters.AddWithValue("$org", organisationId);
        return Convert.ToInt64(await exists.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) == 1
            ? KeyRevocation.LastAdmin
            : KeyRevocation.NotFound;
    }

    private static AccessKey ReadKey(SqliteDataReader r, int facilitatorColumn)
    {
        var role = KeyRoles.Stored(r.IsDBNull(3) ? null : r.GetString(3));
        bool? facilitator = r.IsDBNull(facilitatorColumn) ? null : r.GetInt64(facilitatorColumn) == 1;
        return new AccessKey(r.GetString(0), r.GetString(1), r.GetString(2), role, SqliteText.Time(r.GetString(4)), KeyRoles.StoredFacilitator(facilitator, role));
    }

    private static async Task InsertKeyAsync(SqliteConnection connection, SqliteTransaction? transaction, AccessKey key, string keyHash, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO access_keys (id, organisation_id, key_hash, prefix, role, created_at, facilitator) VALUES ($id, $org, $hash, $prefix, $role, $created, $facilitator);";
        command.Parameters.AddWithValue("$id", key.Id);
        command.Parameters.AddWithValue("$org", key.OrganisationId);
        command.Parameters.AddWithValue("$hash", keyHash);
        command.Parameters.AddWithValue("$prefix", key.Prefix);
        command.Parameters.AddWithValue("$role", key.Role);
        command.Parameters.AddWithValue("$created", SqliteText.Time(key.CreatedAt));
        command.Parameters.AddWithValue("$facilitator", key.Facilitator ? 1 : 0);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
