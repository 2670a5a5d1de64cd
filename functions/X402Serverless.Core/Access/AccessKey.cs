namespace X402Serverless.Core.Access;

/// <summary>
/// A management key as stored: only its SHA-256 hash and a short display prefix. <paramref name="Facilitator"/> grants
/// the use of the built-in facilitator (which spends the operator's gas) on top of the role; it is never implied by one.
/// </summary>
public sealed record AccessKey(string Id, string OrganisationId, string Prefix, string Role, DateTimeOffset CreatedAt, bool Facilitator = false)
{
    public const string AdminRole = KeyRoles.Admin;
}
