using X402Serverless.Core.Access;

namespace X402Serverless.Core.Ports;

/// <summary>Each organisation's append-only record of management actions: entries are added, never changed or removed.</summary>
public interface IAuditLog
{
    Task AppendAsync(AuditEntry entry, CancellationToken cancellationToken);

    /// <summary>The organisation's entries, newest first, filtered and paged by <paramref name="query"/>.</summary>
    Task<AuditPage> ListAsync(string organisationId, AuditQuery query, CancellationToken cancellationToken);
}
