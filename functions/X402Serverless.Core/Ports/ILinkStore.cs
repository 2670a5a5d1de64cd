using X402Serverless.Core.Links;

namespace X402Serverless.Core.Ports;

/// <summary>Paid links, always scoped to the organisation that owns them (except the paid path's lookup by id).</summary>
public interface ILinkStore
{
    Task CreateAsync(PaidLink link, CancellationToken cancellationToken);

    /// <summary>Any organisation's link by id: the paid URL is public.</summary>
    Task<PaidLink?> FindAsync(string id, CancellationToken cancellationToken);

    Task<IReadOnlyList<PaidLink>> ListAsync(string organisationId, CancellationToken cancellationToken);

    /// <summary>Every organisation's listed links (<see cref="LinkListing.Listed"/>), oldest first: the public catalogue's source.</summary>
    Task<IReadOnlyList<PaidLink>> ListListedAsync(CancellationToken cancellationToken);

    /// <summary>Replaces the link if the organisation owns it; false otherwise.</summary>
    Task<bool> UpdateAsync(PaidLink link, CancellationToken cancellationToken);

    Task<bool> DeleteAsync(string organisationId, string id, CancellationToken cancellationToken);
}
