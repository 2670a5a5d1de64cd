namespace X402Serverless.Core.Transfers;

/// <summary>How a claim on a transaction hash went.</summary>
public enum TransferClaimOutcome
{
    /// <summary>This request now holds the hash, until its lease ends.</summary>
    Claimed,

    /// <summary>Another request holds it under a lease that has not ended.</summary>
    Held,

    /// <summary>The transaction already paid for a call: never again.</summary>
    Consumed,
}

/// <summary>
/// The durable replay record of one transaction hash. While unconsumed it is a claim held by <see cref="Owner"/>
/// until <see cref="LeaseUntil"/> (a process that dies mid-call lets go when the lease ends); once consumed it
/// stays for good, naming the payment it made.
/// </summary>
public sealed record TransferClaim
{
    public required string TxHash { get; init; }

    public required string Owner { get; init; }

    public required string LinkId { get; init; }

    public required DateTimeOffset LeaseUntil { get; init; }

    public bool Consumed { get; init; }

    public string? PaymentId { get; init; }
}
