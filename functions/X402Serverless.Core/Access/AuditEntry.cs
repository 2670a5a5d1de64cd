namespace X402Serverless.Core.Access;

/// <summary>
/// One management action, as recorded in an organisation's append-only audit log. <see cref="Before"/> and
/// <see cref="After"/> are JSON with secrets already redacted; <see cref="Id"/> sorts newest first.
/// </summary>
public sealed record AuditEntry(
    string Id,
    string OrganisationId,
    DateTimeOffset At,
    AuditActor Actor,
    string Action,
    string TargetType,
    string? TargetId,
    string? Before,
    string? After,
    string? ClientAddress,
    string Outcome,
    int Status);

/// <summary>Who acted: a management key (id, prefix, role), or a wallet signing up (<see cref="Kind"/> "wallet").</summary>
public sealed record AuditActor(string Kind, string Id, string Label, string? Role)
{
    public const string KeyKind = "key";
    public const string WalletKind = "wallet";

    public static AuditActor OfKey(AccessKey key) => new(KeyKind, key.Id, key.Prefix, key.Role);
}

/// <summary>Which entries to read: filters (exact match) and the id of the last entry of the previous page.</summary>
public sealed record AuditQuery(string? Action = null, string? TargetType = null, string? TargetId = null, string? After = null, int Limit = 50);

/// <summary>A page of entries, newest first, and the cursor of the next page (null when this is the last).</summary>
public sealed record AuditPage(IReadOnlyList<AuditEntry> Entries, string? Next);

/// <summary>Audit entry ids: inverted ticks so that ascending order is newest first in both stores, then randomness.</summary>
public static class AuditIds
{
    public static string New(DateTimeOffset at) =>
        (DateTimeOffset.MaxValue.UtcTicks - at.UtcTicks).ToString("D19", System.Globalization.CultureInfo.InvariantCulture)
        + "_" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6));

    /// <summary>A cursor a client sent: the id shape only, so it cannot smuggle anything into a query.</summary>
    public static bool IsWellFormed(string value) =>
        value.Length == 32 && value[19] == '_' && value.AsSpan(0, 19).IndexOfAnyExceptInRange('0', '9') < 0
        && value.AsSpan(20).IndexOfAnyExcept(LowerHex) < 0;

    private static readonly System.Buffers.SearchValues<char> LowerHex = System.Buffers.SearchValues.Create("0123456789abcdef");
}
