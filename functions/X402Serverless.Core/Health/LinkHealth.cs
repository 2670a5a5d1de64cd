namespace X402Serverless.Core.Health;

/// <summary>
/// What the last unpaid health probes of a listed link found: up or down, when last checked, what the upstream answered
/// (null when it did not), why a probe failed, and how many probes in a row have failed.
/// </summary>
public sealed record LinkHealth
{
    public required string LinkId { get; init; }

    public required string OrganisationId { get; init; }

    public required bool Up { get; init; }

    /// <summary>When the probe pass that made this record started.</summary>
    public required DateTimeOffset CheckedAt { get; init; }

    /// <summary>The HTTP status the upstream answered; null when it did not answer.</summary>
    public int? Status { get; init; }

    /// <summary>Why the last probe counts as down (<see cref="HealthFailures"/>); null when up.</summary>
    public string? Failure { get; init; }

    public int ConsecutiveFailures { get; init; }

    /// <summary>The last probe that found it up; null if none has.</summary>
    public DateTimeOffset? LastUpAt { get; init; }
}

/// <summary>Why a probe found a link down.</summary>
public static class HealthFailures
{
    /// <summary>The upstream answered 5xx.</summary>
    public const string Status = "status";

    /// <summary>No answer within the probe timeout.</summary>
    public const string Timeout = "timeout";

    /// <summary>No connection (refused, reset, name not found).</summary>
    public const string Unreachable = "unreachable";

    /// <summary>The upstream resolves only to addresses the gateway refuses to call (the SSRF guard).</summary>
    public const string AddressRefused = "address_refused";
}
