namespace X402Serverless.Core.Idempotency;

/// <summary>
/// One payment identifier's call to one link by one payer: claimed (in flight, owned by <see cref="Owner"/> until
/// <see cref="ExpiresAt"/>) before anything is charged, then completed with the answer the payer got, kept until
/// <see cref="ExpiresAt"/>. An entry past its expiry counts as absent: its id may be claimed again.
/// </summary>
public sealed record IdentifiedCall
{
    public required string LinkId { get; init; }

    /// <summary>The paying wallet (lower-case hex): one payer can never read another's answer.</summary>
    public required string Payer { get; init; }

    public required string Id { get; init; }

    /// <summary><see cref="PaymentIdentifiers.Fingerprint"/> of the payload and request that first used the id.</summary>
    public required string Fingerprint { get; init; }

    /// <summary>The x402 payment (its replay-guard id) the call pays with.</summary>
    public required string PaymentId { get; init; }

    /// <summary>A random token of the request that holds the claim; only it completes or abandons the entry.</summary>
    public required string Owner { get; init; }

    public required DateTimeOffset ExpiresAt { get; init; }

    public bool Completed { get; init; }

    public RecordedAnswer? Answer { get; init; }
}

/// <summary>
/// The answer a completed call gave: status, response headers (a JSON object of name → values) and the body when it
/// was at most <see cref="MaxBodyBytes"/> (otherwise <see cref="Body"/> is null and only the status and headers, the
/// settlement response among them, are kept).
/// </summary>
public sealed record RecordedAnswer(int Status, string Headers, byte[]? Body)
{
    /// <summary>One Table Storage binary property holds at most 64 KiB.</summary>
    public const int MaxBodyBytes = 64 * 1024;
}

/// <summary>
/// What claiming an id did: <see cref="Claimed"/> (this request owns it now), and the entry found: the one in force
/// when not claimed, or the expired one this claim replaced (null when there was none).
/// </summary>
public sealed record IdentifierClaim(bool Claimed, IdentifiedCall? Found);
