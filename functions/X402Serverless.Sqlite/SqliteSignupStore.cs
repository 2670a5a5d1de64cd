using Microsoft.Data.Sqlite;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Signup;

namespace X402Serverless.Sqlite;

/// <summary>Sign-up nonces and wallet bindings. Each decision is one conditional statement, so SQLite's write lock makes it atomic.</summary>
public sealed class SqliteSignupStore(SqliteDatabase database) : ISignupStore
{
    public async Task AddNonceAsync(string nonce, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await ExecuteAsync(connection, "INSERT INTO signup_nonces (nonce, expires_at) VALUES ($nonce, $expires);", cancellationToken,
            ("$nonce", nonce), ("$expires", SqliteText.Time(expiresAt)));
    }

    public async Task<NonceUse> UseNonceAsync(string nonce, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        var at = SqliteText.Time(now);
        if (await ExecuteAsync(connection, "UPDATE signup_nonces SET used = 1 WHERE nonce = $nonce AND used = 0 AND expires_at > $now;",
                cancellationToken, ("$nonce", nonce), ("$now", at)) == 1)
        {
            return NonceUse.Used;
        }
        await using var read = connection.CreateCommand();
        read.CommandText = "SELECT used, expires_at FROM signup_nonces WHERE nonce = $nonce;";
        read.Parameters.AddWithValue("$nonce", nonce);
        await using var r = await read.ExecuteReaderAsync(cancellationToken);
        if (!await r.ReadAsync(cancellationToken))
        {
            return NonceUse.Unknown;
        }
        if (string.CompareOrdinal(r.GetString(1), at) <= 0)
        {
            await r.DisposeAsync();
            await ExecuteAsync(connection, "DELETE FROM signup_nonces WHERE nonce = $nonce;", cancellationToken, ("$nonce", nonce));
            return NonceUse.Expired;
        }
        return r.GetInt64(0) == 1 ? NonceUse.AlreadyUsed : NonceUse.Unknown;
    }

    public async Task<int> DeleteExpiredNoncesAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        return await ExecuteAsync(connection,
            "DELETE FROM signup_nonces WHERE nonce IN (SELECT nonce FROM signup_nonces WHERE expires_at <= $now ORDER BY expires_at LIMIT $max);",
            cancellationToken, ("$now", SqliteText.Time(now)), ("$max", max));
    }

    public async Task<WalletBinding?> FindWalletAsync(string role, string wallet, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        return await ReadBindingAsync(connection, role, wallet, cancellationToken);
    }

    public async Task<WalletBinding> BindWalletAsync(WalletBinding binding, string? replacing, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        // With no account to replace, "= NULL" is never true: an existing binding stays as it is.
        await ExecuteAsync(connection, """
            INSERT INTO wallet_bindings (role, wallet, account_id, created_at) VALUES ($role, $wallet, $account, $created)
            ON CONFLICT (role, wallet) DO UPDATE SET account_id = excluded.account_id, created_at = excluded.created_at
            WHERE wallet_bindings.account_id = $replacing;
            """, cancellationToken,
            ("$role", binding.Role), ("$wallet", binding.Wallet), ("$account", binding.AccountId),
            ("$created", SqliteText.Time(binding.CreatedAt)), ("$replacing", (object?)replacing ?? DBNull.Value));
        return await ReadBindingAsync(connection, binding.Role, binding.Wallet, cancellationToken)
            ?? throw new InvalidOperationException("A wallet binding vanished right after it was written.");
    }

    private static async Task<WalletBinding?> ReadBindingAsync(SqliteConnection connection, string role, string wallet, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT account_id, created_at FROM wallet_bindings WHERE role = $role AND wallet = $wallet;";
        command.Parameters.AddWithValue("$role", role);
        command.Parameters.AddWithValue("$wallet", wallet);
        await using var r = await command.ExecuteReaderAsync(cancellationToken);
        return await r.ReadAsync(cancellationToken) ? new WalletBinding(role, wallet, r.GetString(0), SqliteText.Time(r.GetString(1))) : null;
    }

    private static async Task<int> ExecuteAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
