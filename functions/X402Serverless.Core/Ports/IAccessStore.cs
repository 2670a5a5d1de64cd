using X402Serverless.Core.Access;

namespace X402Serverless.Core.Ports;

/// <summary>Organisations and their management keys (stored hashed).</summary>
public interface IAccessStore
{
    Task<int> CountOrganisationsAsync(CancellationToken cancellationToken);

    /// <summary>Creates an organisation with its first key, atomically.</summary>
    Task CreateOrganisationAsync(Organisation organisation, AccessKey firstKey, string keyHash, CancellationToken cancellationToken);

    Task AddKeyAsync(AccessKey key, string keyHash, CancellationToken cancellationToken);

    Task<(AccessKey Key, Organisation Organisation)?> FindByKeyHashAsync(string keyHash, CancellationToken cancellationToken);

    /// <summary>An organisation by id (the catalogue names each listing's provider).</summary>
    Task<Organisation?> FindOrganisationAsync(string id, CancellationToken cancellationToken);

    /// <summary>The operator organisation (the first one created), or null on an empty store.</summary>
    Task<Organisation?> FindOperatorAsync(CancellationToken cancellationToken);

    Task<IReadOnlyList<AccessKey>> ListKeysAsync(string organisationId, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes one of the organisation's keys, unless it has no such key or it is the organisation's last admin key
    /// (an organisation without one could never manage its keys again).
    /// </summary>
    Task<KeyRevocation> RevokeKeyAsync(string organisationId, string keyId, CancellationToken cancellationToken);
}

/// <summary>What revoking a key did.</summary>
public enum KeyRevocation
{
    Revoked,
    NotFound,
    LastAdmin,
}
