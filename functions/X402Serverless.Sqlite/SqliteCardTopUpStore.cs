using X402Serverless.Core.Money;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Stripe;

namespace X402Serverless.Sqlite;

/// <summary>Card top-up checkouts, one row per Stripe Checkout Session (the first record of a session is kept).</summary>
public sealed class SqliteCardTopUpStore(SqliteDatabase database) : ICardTopUpStore
{
    public async Task<bool> AddAsync(CardTopUp topUp, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO card_topups (session_id, kind, account_id, amount, currency, created_at)
            VALUES ($session, $kind, $account, $amount, $currency, $created)
            ON CONFLICT (session_id) DO NOTHING;
            """;
        command.Parameters.AddWithValue("$session", topUp.SessionId);
        command.Parameters.AddWithValue("$kind", topUp.Kind);
        command.Parameters.AddWithValue("$account", topUp.AccountId);
        command.Parameters.AddWithValue("$amount", topUp.Amount.Micros);
        command.Parameters.AddWithValue("$currency", topUp.Currency);
        command.Parameters.AddWithValue("$created", SqliteText.Time(topUp.CreatedAt));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<CardTopUp?> GetAsync(string sessionId, CancellationToken cancellationToken) =>
        (await QueryAsync("WHERE session_id = $session", cancellationToken, ("$session", sessionId))).SingleOrDefault();

    public async Task<IReadOnlyList<CardTopUp>> OpenedBetweenAsync(DateTimeOffset since, DateTimeOffset before, int max, CancellationToken cancellationToken) =>
        await QueryAsync("WHERE created_at >= $from AND created_at < $to ORDER BY created_at, session_id LIMIT $max", cancellationToken,
            ("$from", SqliteText.Time(since)), ("$to", SqliteText.Time(before)), ("$max", max));

    public Task<bool> MarkPaidAsync(string sessionId, CancellationToken cancellationToken) =>
        SqliteCheckoutMarks.MarkPaidAsync(database, "card_topups", sessionId, cancellationToken);

    public Task<bool> DeleteUnpaidAsync(string sessionId, CancellationToken cancellationToken) =>
        SqliteCheckoutMarks.DeleteUnpaidAsync(database, "card_topups", sessionId, cancellationToken);

    private async Task<List<CardTopUp>> QueryAsync(string where, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT session_id, kind, account_id, amount, currency, created_at FROM card_topups " + where + ";";
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        await using var r = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<CardTopUp>();
        while (await r.ReadAsync(cancellationToken))
        {
            list.Add(new CardTopUp
            {
                SessionId = r.GetString(0),
                Kind = r.GetString(1),
                AccountId = r.GetString(2),
                Amount = Usd.FromMicros(r.GetInt64(3)),
                Currency = r.GetString(4),
                CreatedAt = SqliteText.Time(r.GetString(5)),
            });
        }
        return list;
    }
}
