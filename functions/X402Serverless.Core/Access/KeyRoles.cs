namespace X402Serverless.Core.Access;

/// <summary>The roles a management key can have; what each may do is the handler's permission matrix.</summary>
public static class KeyRoles
{
    public const string Admin = "admin";
    public const string Developer = "developer";
    public const string Billing = "billing";
    public const string ReadOnly = "read-only";

    public static readonly IReadOnlyList<string> All = [Admin, Developer, Billing, ReadOnly];

    public static bool IsKnown(string? role) => role is not null && All.Contains(role, StringComparer.Ordinal);

    /// <summary>
    /// A stored role: keys written before roles existed have none and were full-access, so they read as admin.
    /// </summary>
    public static string Stored(string? role) => string.IsNullOrEmpty(role) ? Admin : role;

    /// <summary>
    /// A stored facilitator grant: keys written before the grant existed could all use the facilitator, so an admin
    /// key without the field keeps it (the organisation allow-list still applies); any other key has it only if granted.
    /// </summary>
    public static bool StoredFacilitator(bool? granted, string role) => granted ?? role == Admin;
}
