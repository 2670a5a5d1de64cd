using X402Serverless.Core.Payments;
using X402Serverless.Core.Money;

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

    /// <summary>In atomic units of the network's asset.</summary>
    public required TokenAmount Amount { get; init; }

    public required int X402Version { get; init; }

    public required PaymentStatus Status { get; init; }

    /// <summary>"sync" (content after settlement) or "deferred" (content first, settled by the job).</summary>
    public string Mode { get; init; } = SettlementModes.Sync;

    /// <summary>Which facilitator settles it ("remote" or "builtin").</summary>
    public string Facilitator { get; init; } = FacilitatorKinds.Remote;

    /// <summary>The standard facilitator request body (JSON), kept so the job can settle after a restart.</summary>
    public string? SettleRequest { get; init; }

    /// <summary>Unix seconds after which the authorization can no longer be settled.</summary>
    public long ValidBefore { get; init; }

    public int Attempts { get; init; }

    public DateTimeOffset? NextAttemptAt { get; init; }

    public string? LastError { get; init; }

    public string? Transaction { get; init; }

    public string? FailureReason { get; init; }

    /// <summary>
    /// A sync payment whose content was withheld while its broadcast transaction was still unconfirmed: once it
    /// settles, the same payment redeems the content once.
    /// </summary>
    public bool ContentOwed { get; init; }

    /// <summary>What it buys (<see cref="PaymentPurposes"/>): what it owes is delivered only there.</summary>
    public string Purpose { get; init; } = PaymentPurposes.Content;

    public required DateTimeOffset CreatedAt { get; init; }

    public required DateTimeOffset UpdatedAt { get; init; }
}
