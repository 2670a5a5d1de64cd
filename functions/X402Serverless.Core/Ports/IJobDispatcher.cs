namespace X402Serverless.Core.Ports;

/// <summary>
/// Hands a durable job (already recorded in the store) to whatever runs jobs: the in-process worker standalone,
/// a Service Bus queue in Azure. Losing a message loses no job; the store still holds it.
/// </summary>
public interface IJobDispatcher
{
    /// <param name="messageId">The job's id, so the broker's duplicate detection drops a re-send.</param>
    Task DispatchAsync(string queue, string messageId, string jsonBody, CancellationToken cancellationToken);
}
