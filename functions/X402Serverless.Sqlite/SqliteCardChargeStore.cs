using X402Serverless.Core.Ports;
using X402Serverless.Core.Stripe;

namespace X402Serverless.Sqlite;

/// <summary>Fulfilled card payments, one row per PaymentIntent; the taken-back total moves by a conditional update.</summary>
public sealed class SqliteCardChargeStore(SqliteDatabase database) : ICardChargeStore
{
    public async Task<bool> AddAsync(CardCharge charge, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO card_charges (payment_intent_id, session_id, taken_back, previous, reason, created_at)
            VALUES ($pi, $session, $taken, $previous, $reason, $created)
            ON CONFLICT (payment_intent_id) DO NOTHING;
            """;
        command.Parameters.AddWithValue("$pi", charge.PaymentIntentId);
        command.Parameters.AddWithValue("$session", charge.SessionId);
        command.Parameters.AddWithValue("$taken", charge.TakenBackCents);
        command.Parameters.AddWithValue("$previous", charge.PreviousCents);
        command.Parameters.AddWithValue("$reason", (object?)charge.Reason ?? DBNull.Value);
        command.Parameters.AddWithValue("$created", SqliteText.Time(charge.CreatedAt));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<CardCharge?> GetAsync(string paymentIntentId, CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT payment_intent_id, session_id, taken_back, previous, reason, created_at, refunded, disputed FROM card_charges WHERE payment_intent_id = $pi;";
        command.Parameters.AddWithValue("$pi", paymentIntentId);
        await using var r = await command.ExecuteReaderAsync(cancellationToken);
        if (!await r.ReadAsync(cancellationToken))
        {
            return null;
        }
        return new CardCharge
        {
            PaymentIntentId = r.GetString(0),
            SessionId = r.GetString(1),
            TakenBackCents = r.GetInt64(2),
            PreviousCents = r.GetInt64(3),
            Reason = r.IsDBNull(4) ? null : r.GetString(4),
            CreatedAt = SqliteText.Time(r.GetString(5)),
            RefundedCents = r.GetInt64(6),
            DisputedCents = r.GetInt64(7),
        };
    }

    public async Task<bool> AdvanceAsync(string paymentIntentId, long fromCents, long toCents, string reason, long refundedCents, long disputedCents,
        CancellationToken cancellationToken)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            UPDATE card_charges SET taken_back = $to, previous = $from, reason = $reason, refunded = $refunded, disputed = $disputed
            WHERE payment_intent_id = $pi AND taken_back = $from;
            """;
        command.Parameters.AddWithValue("$pi", paymentIntentId);
        command.Parameters.AddWithValue("$from", fromCents);
        command.Parameters.AddWithValue("$to", toCents);
        command.Parameters.AddWithValue("$reason", reason);
        command.Parameters.AddWithValue("$refunded", refundedCents);
        command.Parameters.AddWithValue("$disputed", disputedCents);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }
}
