using X402Serverless.Core.Usage;

namespace X402Serverless.Core.Ports;

/// <summary>Daily usage counters per link, added to in batches off the paid path.</summary>
public interface IUsageStore
{
    /// <summary>Adds each count to its (organisation, link, day, kind) counter.</summary>
    Task AddAsync(IReadOnlyList<UsageCount> counts, CancellationToken cancellationToken);

    /// <summary>The organisation's counters for days from <paramref name="fromDay"/> on (inclusive, "yyyy-MM-dd").</summary>
    Task<IReadOnlyList<UsageCount>> ListAsync(string organisationId, string fromDay, CancellationToken cancellationToken);
}
