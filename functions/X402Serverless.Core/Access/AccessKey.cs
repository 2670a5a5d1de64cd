namespace X402Serverless.Core.Access;

/// <summary>A management key as stored: only its SHA-256 hash and a short display prefix.</summary>
public sealed record AccessKey(string Id, string OrganisationId, string Prefix, string Role, DateTimeOffset CreatedAt)
{
    public const string AdminRole = "admin";
}
