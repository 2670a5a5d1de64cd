using Microsoft.Data.Sqlite;
using X402Serverless.Core.Money;
using X402Serverless.Core.Passes;
using X402Serverless.Core.Ports;

namespace X402Serverless.Sqlite;

/// <summary>
/// Passes and used sign-in-with-x nonces. A spend is one UPDATE choosing the pass and taking its call, so SQLite's
/// write lock makes concurrent spends of a last call exactly one success; its record (pass_spends) is written in the
/// same transaction, and goes when the call is kept, or is marked given back with the call given back.
/// </summary>
public sealed class SqlitePassStore(SqliteDatabase database) : IPassStore
{
    private const string Columns = "id, link_id, organisation_id, holder, price, payment_ref, paid_with, calls, calls_left, expires_at, revoked_at, created_at, revoked_reason";

    public async Task<bool> AddAsync(Pass pass, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        return await ExecuteAsync(connection, $"""
            INSERT INTO passes ({Columns}) VALUES ($id, $link, $org, $holder, $price, $ref, $paidWith, $calls, $callsLeft, $expires, NULL, $created, NULL)
            ON CONFLICT (id) DO NOTHING;
            """, cancellationToken, ("$id", pass.Id), ("$link", pass.LinkId), ("$org", pass.OrganisationId), ("$holder", pass.Holder),
            ("$price", pass.Price.Micros), ("$ref", pass.PaymentRef), ("$paidWith", pass.PaidWith), ("$calls", (object?)pass.Calls ?? DBNull.Value),
            ("$callsLeft", (object?)pass.CallsLeft ?? DBNull.Value), ("$expires", pass.ExpiresAt is { } e ? SqliteText.Time(e) : DBNull.Value),
            ("$created", SqliteText.Time(pass.CreatedAt))) == 1;
    }

    public async Task<Pass?> GetAsync(string linkId, string id, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        return (await QueryAsync(connection, $"SELECT {Columns} FROM passes WHERE id = $id AND link_id = $link;", cancellationToken, ("$id", id), ("$link", linkId))).FirstOrDefault();
    }

    public async Task<IReadOnlyList<Pass>> ListForLinkAsync(string linkId, int max, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        return await QueryAsync(connection, $"SELECT {Columns} FROM passes WHERE link_id = $link ORDER BY created_at DESC, id LIMIT $max;",
            cancellationToken, ("$link", linkId), ("$max", max));
    }

    public async Task<IReadOnlyList<Pass>> ListForHolderAsync(string holder, string? linkId, int max, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        return await QueryAsync(connection, $"""
            SELECT {Columns} FROM passes WHERE holder = $holder AND ($link IS NULL OR link_id = $link) ORDER BY created_at DESC, id LIMIT $max;
            """, cancellationToken, ("$holder", holder), ("$link", (object?)linkId ?? DBNull.Value), ("$max", max));
    }

    public async Task<bool> RevokeAsync(string linkId, string id, DateTimeOffset at, string reason, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        return await ExecuteAsync(connection,
            "UPDATE passes SET revoked_at = $at, revoked_reason = $reason WHERE id = $id AND link_id = $link AND revoked_at IS NULL;", cancellationToken,
            ("$id", id), ("$link", linkId), ("$at", SqliteText.Time(at)), ("$reason", reason)) == 1;
    }

    public async Task<Pass?> TrySpendAsync(string linkId, string holder, DateTimeOffset now, string spendId, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        // The choice and the decrement are one statement: no other writer runs between them. The spend's record is
        // written in the same transaction, for a pass counting calls.
        await using var spend = Command(connection, $"""
            UPDATE passes SET calls_left = calls_left - 1 WHERE id =
                (SELECT id FROM passes WHERE link_id = $link AND holder = $holder AND revoked_at IS NULL
                    AND (expires_at IS NULL OR expires_at > $now) AND (calls_left IS NULL OR calls_left > 0)
                 ORDER BY expires_at IS NULL, expires_at, created_at LIMIT 1)
            RETURNING {Columns};
            """, [("$link", linkId), ("$holder", holder), ("$now", SqliteText.Time(now))]);
        spend.Transaction = transaction;
        if ((await ReadAsync(spend, cancellationToken)).FirstOrDefault() is not { } spent)
        {
            return null;
        }
        if (spent.CallsLeft is not null)
        {
            await using var record = Command(connection, """
                INSERT INTO pass_spends (spend_id, link_id, pass_id, created_at) VALUES ($spend, $link, $pass, $now);
                """, [("$spend", spendId), ("$link", linkId), ("$pass", spent.Id), ("$now", SqliteText.Time(now))]);
            record.Transaction = transaction;
            await record.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return spent;
    }

    public async Task<bool> ConcludeSpendAsync(string linkId, string spendId, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await ExecuteAsync(connection, "DELETE FROM pass_spends WHERE spend_id = $spend AND link_id = $link AND given_back_at IS NULL;", cancellationToken,
            ("$spend", spendId), ("$link", linkId));
        return await SpendStateAsync(connection, linkId, spendId, cancellationToken) == SpendState.Kept;
    }

    public async Task<bool> GiveBackSpendAsync(string linkId, string spendId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using var take = Command(connection, """
            UPDATE pass_spends SET given_back_at = $now WHERE spend_id = $spend AND link_id = $link AND given_back_at IS NULL RETURNING pass_id;
            """, [("$spend", spendId), ("$link", linkId), ("$now", SqliteText.Time(now))]);
        take.Transaction = transaction;
        if (await take.ExecuteScalarAsync(cancellationToken) is not string passId)
        {
            return false; // kept or given back before
        }
        await GiveCallAsync(connection, transaction, linkId, passId, cancellationToken);
        return true;
    }

    public async Task<SpendState> SpendStateAsync(string linkId, string spendId, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        return await SpendStateAsync(connection, linkId, spendId, cancellationToken);
    }

    private static async Task<SpendState> SpendStateAsync(SqliteConnection connection, string linkId, string spendId, CancellationToken cancellationToken)
    {
        await using var read = Command(connection, "SELECT given_back_at IS NOT NULL FROM pass_spends WHERE spend_id = $spend AND link_id = $link;",
            [("$spend", spendId), ("$link", linkId)]);
        return await read.ExecuteScalarAsync(cancellationToken) switch
        {
            null => SpendState.Kept,
            long givenBack when givenBack != 0 => SpendState.GivenBack,
            _ => SpendState.Taken,
        };
    }

    public async Task<IReadOnlyList<(string LinkId, string SpendId)>> StaleSpendsAsync(DateTimeOffset before, int max, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = Command(connection, """
            SELECT link_id, spend_id FROM pass_spends WHERE given_back_at IS NULL AND created_at < $before ORDER BY created_at LIMIT $max;
            """, [("$before", SqliteText.Time(before)), ("$max", max)]);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var stale = new List<(string, string)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            stale.Add((reader.GetString(0), reader.GetString(1)));
        }
        return stale;
    }

    public async Task<int> ForgetGivenBackSpendsAsync(DateTimeOffset before, int max, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        return await ExecuteAsync(connection, """
            DELETE FROM pass_spends WHERE spend_id IN
                (SELECT spend_id FROM pass_spends WHERE given_back_at IS NOT NULL AND given_back_at < $before LIMIT $max);
            """, cancellationToken, ("$before", SqliteText.Time(before)), ("$max", max));
    }

    public async Task<bool> GiveBackOnceAsync(string linkId, string passId, string key, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using var record = Command(connection, """
            INSERT INTO pass_givebacks (key, link_id, pass_id, created_at) VALUES ($key, $link, $id, $now) ON CONFLICT (key) DO NOTHING;
            """, [("$key", key), ("$link", linkId), ("$id", passId), ("$now", SqliteText.Time(now))]);
        record.Transaction = transaction;
        if (await record.ExecuteNonQueryAsync(cancellationToken) != 1)
        {
            return false;
        }
        await GiveCallAsync(connection, transaction, linkId, passId, cancellationToken);
        return true;
    }

    /// <summary>Gives a call back to the link's pass (none for a pass without a call count) and commits the transaction it is part of.</summary>
    private static async Task GiveCallAsync(SqliteConnection connection, SqliteTransaction transaction, string linkId, string passId, CancellationToken cancellationToken)
    {
        await using var give = Command(connection, "UPDATE passes SET calls_left = calls_left + 1 WHERE id = $id AND link_id = $link AND calls_left IS NOT NULL;",
            [("$id", passId), ("$link", linkId)]);
        give.Transaction = transaction;
        await give.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<bool> UseNonceAsync(string nonce, DateTimeOffset keepUntil, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        return await ExecuteAsync(connection, "INSERT INTO siwx_nonces (nonce, keep_until) VALUES ($nonce, $until) ON CONFLICT (nonce) DO NOTHING;",
            cancellationToken, ("$nonce", nonce), ("$until", SqliteText.Time(keepUntil))) == 1;
    }

    public async Task<int> DeleteExpiredNoncesAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        return await ExecuteAsync(connection, """
            DELETE FROM siwx_nonces WHERE rowid IN (SELECT rowid FROM siwx_nonces WHERE keep_until < $now ORDER BY keep_until LIMIT $max);
            """, cancellationToken, ("$now", SqliteText.Time(now)), ("$max", max));
    }

    public async Task<bool> AddCheckoutAsync(PassCheckout checkout, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        return await ExecuteAsync(connection, """
            INSERT INTO pass_checkouts (session_id, link_id, organisation_id, price, calls, minutes, payer_id, new_key_id, new_key_hash, created_at)
            VALUES ($session, $link, $org, $price, $calls, $minutes, $payer, $keyId, $keyHash, $created)
            ON CONFLICT (session_id) DO NOTHING;
            """, cancellationToken, ("$session", checkout.SessionId), ("$link", checkout.LinkId), ("$org", checkout.OrganisationId),
            ("$price", checkout.Offer.Price.Micros), ("$calls", (object?)checkout.Offer.Calls ?? DBNull.Value),
            ("$minutes", (object?)checkout.Offer.Minutes ?? DBNull.Value), ("$payer", checkout.PayerId),
            ("$keyId", (object?)checkout.NewKeyId ?? DBNull.Value), ("$keyHash", (object?)checkout.NewKeyHash ?? DBNull.Value),
            ("$created", SqliteText.Time(checkout.CreatedAt))) == 1;
    }

    public async Task<PassCheckout?> GetCheckoutAsync(string sessionId, CancellationToken cancellationToken) =>
        (await CheckoutsAsync("WHERE session_id = $session", cancellationToken, ("$session", sessionId))).SingleOrDefault();

    public async Task<IReadOnlyList<PassCheckout>> CheckoutsOpenedBetweenAsync(DateTimeOffset since, DateTimeOffset before, int max, CancellationToken cancellationToken) =>
        await CheckoutsAsync("WHERE created_at >= $from AND created_at < $to ORDER BY created_at, session_id LIMIT $max", cancellationToken,
            ("$from", SqliteText.Time(since)), ("$to", SqliteText.Time(before)), ("$max", max));

    public Task<bool> MarkCheckoutPaidAsync(string sessionId, CancellationToken cancellationToken) =>
        SqliteCheckoutMarks.MarkPaidAsync(database, "pass_checkouts", sessionId, cancellationToken);

    public Task<bool> DeleteUnpaidCheckoutAsync(string sessionId, CancellationToken cancellationToken) =>
        SqliteCheckoutMarks.DeleteUnpaidAsync(database, "pass_checkouts", sessionId, cancellationToken);

    private async Task<List<PassCheckout>> CheckoutsAsync(string where, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var connection = database.Open();
        await using var command = Command(connection, """
            SELECT session_id, link_id, organisation_id, price, calls, minutes, payer_id, new_key_id, new_key_hash, created_at
            FROM pass_checkouts
            """ + " " + where + ";", parameters);
        await using var r = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<PassCheckout>();
        while (await r.ReadAsync(cancellationToken))
        {
            list.Add(new PassCheckout
            {
                SessionId = r.GetString(0),
                LinkId = r.GetString(1),
                OrganisationId = r.GetString(2),
                Offer = new PassOffer(Usd.FromMicros(r.GetInt64(3)), r.IsDBNull(4) ? null : r.GetInt32(4), r.IsDBNull(5) ? null : r.GetInt32(5)),
                PayerId = r.GetString(6),
                NewKeyId = r.IsDBNull(7) ? null : r.GetString(7),
                NewKeyHash = r.IsDBNull(8) ? null : r.GetString(8),
                CreatedAt = SqliteText.Time(r.GetString(9)),
            });
        }
        return list;
    }

    private static async Task<List<Pass>> QueryAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = Command(connection, sql, parameters);
        return await ReadAsync(command, cancellationToken);
    }

    private static async Task<List<Pass>> ReadAsync(SqliteCommand command, CancellationToken cancellationToken)
    {
        await using var r = await command.ExecuteReaderAsync(cancellationToken);
        var passes = new List<Pass>();
        while (await r.ReadAsync(cancellationToken))
        {
            passes.Add(new Pass
            {
                Id = r.GetString(0),
                LinkId = r.GetString(1),
                OrganisationId = r.GetString(2),
                Holder = r.GetString(3),
                Price = Usd.FromMicros(r.GetInt64(4)),
                PaymentRef = r.GetString(5),
                PaidWith = r.GetString(6),
                Calls = r.IsDBNull(7) ? null : r.GetInt32(7),
                CallsLeft = r.IsDBNull(8) ? null : r.GetInt32(8),
                ExpiresAt = r.IsDBNull(9) ? null : SqliteText.Time(r.GetString(9)),
                RevokedAt = r.IsDBNull(10) ? null : SqliteText.Time(r.GetString(10)),
                CreatedAt = SqliteText.Time(r.GetString(11)),
                RevokedReason = r.IsDBNull(12) ? null : r.GetString(12),
            });
        }
        return passes;
    }

    private static async Task<int> ExecuteAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = Command(connection, sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static SqliteCommand Command(SqliteConnection connection, string sql, (string Name, object Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return command;
    }
}
