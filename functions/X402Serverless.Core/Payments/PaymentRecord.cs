using X402Serverless.Core.Payments;

namespace X402Serverless.Core.Payments;

/// <summary>
/// One x402 payment. Its id is derived from (network, asset, payer, nonce), so the store's primary key is the
/// replay guard: one authorization, one row.
/// </summary>
public sealed record PaymentRecord
{
    public required string Id { get; init; }

    public required string LinkId { get; init; }

    public required string OrganisationId { get; init; }

    public required string Network { get; init; }

    public required string Asset { get; init; }

    public required string Payer { get; init; }

    public required string PayTo { get; init; }

    public required string Nonce { get; init; }

    /// <summary>Atomic units of the asset, as a decimal string.</summary>
    public required string Amount { get; init; }

    public required int X402Version { get; init; }

    public required PaymentStatus Status { get; init; }

    public string? Transaction { get; init; }

    public string? FailureReason { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required DateTimeOffset UpdatedAt { get; init; }
}
