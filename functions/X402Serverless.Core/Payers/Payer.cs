using X402Serverless.Core.Money;

namespace X402Serverless.Core.Payers;

/// <summary>
/// Someone who pays with credits or an allowance rather than signing each call. Belongs to an organisation, which
/// may sponsor a monthly allowance.
/// </summary>
public sealed record Payer
{
    public required string Id { get; init; }

    public required string OrganisationId { get; init; }

    public required string Name { get; init; }

    /// <summary>Granted from the organisation's pool at the start of every month.</summary>
    public Usd MonthlyAllowance { get; init; }

    /// <summary>Most this payer may spend in a month, across allowance and credits; null: no cap.</summary>
    public Usd? MonthlyCap { get; init; }

    /// <summary>How far below zero the payer's own credits may go (postpaid, for trusted payers).</summary>
    public Usd CreditLimit { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }
}
