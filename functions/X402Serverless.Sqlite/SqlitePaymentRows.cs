using Microsoft.Data.Sqlite;
using X402Serverless.Core.Money;
using X402Serverless.Core.Payments;

namespace X402Serverless.Sqlite;

/// <summary>
/// A payments row read back as a <see cref="PaymentRecord"/>. The column list and the reader's ordinals live side by
/// side because each depends on the other's order.
/// </summary>
internal static class SqlitePaymentRows
{
    public const string Columns = """
        id, link_id, organisation_id, network, asset, payer, pay_to, nonce, amount, x402_version, status, tx_hash,
        failure_reason, created_at, updated_at, mode, facilitator, settle_request, valid_before, attempts, next_attempt_at, last_error, content_owed, purpose
        """;

    /// <summary>The current row of a reader whose SELECT or RETURNING clause is <see cref="Columns"/>.</summary>
    public static PaymentRecord Read(SqliteDataReader r) => new()
    {
        Id = r.GetString(0),
        LinkId = r.GetString(1),
        OrganisationId = r.GetString(2),
        Network = r.GetString(3),
        Asset = r.GetString(4),
        Payer = r.GetString(5),
        PayTo = r.GetString(6),
        Nonce = r.GetString(7),
        Amount = TokenAmount.Parse(r.GetString(8)),
        X402Version = r.GetInt32(9),
        Status = Enum.Parse<PaymentStatus>(r.GetString(10)),
        Transaction = r.IsDBNull(11) ? null : r.GetString(11),
        FailureReason = r.IsDBNull(12) ? null : r.GetString(12),
        CreatedAt = SqliteText.Time(r.GetString(13)),
        UpdatedAt = SqliteText.Time(r.GetString(14)),
        Mode = r.GetString(15),
        Facilitator = r.GetString(16),
        SettleRequest = r.IsDBNull(17) ? null : r.GetString(17),
        ValidBefore = r.GetInt64(18),
        Attempts = r.GetInt32(19),
        NextAttemptAt = r.IsDBNull(20) ? null : SqliteText.Time(r.GetString(20)),
        LastError = r.IsDBNull(21) ? null : r.GetString(21),
        ContentOwed = r.GetInt64(22) == 1,
        Purpose = r.GetString(23),
    };
}
