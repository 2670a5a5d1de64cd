using X402Serverless.Core.Health;

namespace X402Serverless.Core.Ports;

/// <summary>The last health probe result of each probed link, written by the one probe pass running at a time.</summary>
public interface ILinkHealthStore
{
    /// <summary>Replaces each link's record with the one given.</summary>
    Task SaveAsync(IReadOnlyList<LinkHealth> records, CancellationToken cancellationToken);

    /// <summary>Every record kept.</summary>
    Task<IReadOnlyList<LinkHealth>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Forgets these links' records (links no longer probed, or deleted); unknown ids are ignored.</summary>
    Task DeleteAsync(IReadOnlyList<string> linkIds, CancellationToken cancellationToken);
}
