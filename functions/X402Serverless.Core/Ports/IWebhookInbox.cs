namespace X402Serverless.Core.Ports;

/// <summary>
/// Verified webhook events of one sender (Stripe, the KYC provider), stored before they are acknowledged and
/// processed from the queue.
/// </summary>
public interface IWebhookInbox
{
    /// <summary>Stores an event once; false when its id was already received (a redelivery).</summary>
    Task<bool> TryAddAsync(string id, string type, string payload, DateTimeOffset at, CancellationToken cancellationToken);

    Task<IReadOnlyList<(string Id, string Payload)>> PendingAsync(int max, CancellationToken cancellationToken);

    Task<string?> PayloadAsync(string id, CancellationToken cancellationToken);

    Task MarkProcessedAsync(string id, string outcome, DateTimeOffset at, CancellationToken cancellationToken);
}
