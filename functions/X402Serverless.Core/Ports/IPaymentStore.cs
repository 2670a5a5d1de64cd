using X402Serverless.Core.Payments;

namespace X402Serverless.Core.Ports;

/// <summary>x402 payments: the replay guard and the durable settlement jobs (an outbox in the same rows).</summary>
public interface IPaymentStore
{
    /// <summary>Inserts the payment as Reserved; false when a payment with the same id already exists (replay or in flight).</summary>
    Task<bool> TryReserveAsync(PaymentRecord payment, CancellationToken cancellationToken);

    /// <summary>
    /// Reserves a payment to be served before settlement (its mode deferred) only while its payer has fewer than
    /// <paramref name="maxInFlight"/> deferred payments not settled yet (to anyone here), the count and the insert one
    /// atomic step, so parallel requests of one wallet cannot all pass the bound; at the bound the payment is reserved
    /// as sync instead. The mode it was reserved in, or null when a payment with the same id already exists.
    /// </summary>
    /// <param name="maxInFlight">The bound, from 1 up to <see cref="PayerHistory.InFlightCountCap"/> - 1. Exact for a bound
    /// that stays the same; when it is lowered, payments reserved under the higher one may exceed it until they end.</param>
    Task<string?> TryReserveDeferredAsync(PaymentRecord payment, int maxInFlight, CancellationToken cancellationToken);

    Task<PaymentRecord?> GetAsync(string id, CancellationToken cancellationToken);

    /// <summary>Reserved → Pending (a job the worker will settle) or Settling (settled inline by a sync request).</summary>
    Task<bool> AdvanceAsync(string id, PaymentStatus target, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Records the settlement transaction the moment it is broadcast.</summary>
    Task RecordSubmittedAsync(string id, string transaction, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Flips <see cref="PaymentRecord.ContentOwed"/> to <paramref name="owed"/>; false when it already was (so one redemption wins).</summary>
    Task<bool> TrySetContentOwedAsync(string id, bool owed, CancellationToken cancellationToken);

    Task MarkSettledAsync(string id, string transaction, DateTimeOffset at, CancellationToken cancellationToken);

    Task MarkFailedAsync(string id, string reason, DateTimeOffset at, CancellationToken cancellationToken);

    Task MarkExpiredAsync(string id, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>A Pending or Settling job that must be tried again later.</summary>
    Task ScheduleRetryAsync(string id, int attempts, DateTimeOffset nextAttemptAt, string lastError, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Deletes a payment that was not charged (Reserved, or Settling with nothing broadcast), freeing the authorization.</summary>
    Task ReleaseAsync(string id, CancellationToken cancellationToken);

    /// <summary>Leases up to <paramref name="max"/> due Pending jobs to this worker until <paramref name="leaseUntil"/>.</summary>
    Task<IReadOnlyList<PaymentRecord>> ClaimDueAsync(DateTimeOffset now, DateTimeOffset leaseUntil, int max, CancellationToken cancellationToken);

    /// <summary>
    /// Frees every job lease: called once when the single standalone worker starts, since leases held by a process
    /// that died would otherwise hold their jobs until they time out.
    /// </summary>
    Task ReleaseLeasesAsync(CancellationToken cancellationToken);

    /// <summary>Reserved or Settling payments not touched since <paramref name="before"/>: their request died.</summary>
    Task<IReadOnlyList<PaymentRecord>> FindStaleAsync(DateTimeOffset before, int max, CancellationToken cancellationToken);

    Task<IReadOnlyList<PaymentRecord>> ListAsync(string organisationId, PaymentQuery query, CancellationToken cancellationToken);

    /// <summary>The organisation's payments counted and summed per link, network and status (usage and revenue).</summary>
    Task<IReadOnlyList<PaymentTotals>> TotalsByLinkAsync(string organisationId, CancellationToken cancellationToken);

    /// <summary>Payments of links whose id starts with <paramref name="prefix"/> (internal links such as top-ups), newest first.</summary>
    Task<IReadOnlyList<PaymentRecord>> ListByLinkPrefixAsync(string prefix, PaymentStatus status, int max, CancellationToken cancellationToken);

    /// <summary>
    /// The payer's standing for deferred settlement (<see cref="PayerHistory"/>), judged for links of <paramref name="organisationId"/>.
    /// In-flight payments are counted up to <paramref name="inFlightBound"/> only (all the caller compares), and not at
    /// all when it is at or above <see cref="PayerHistory.InFlightCountCap"/> (no bound): then the count is 0.
    /// </summary>
    Task<PayerHistory> GetPayerHistoryAsync(string payer, string organisationId, int inFlightBound, CancellationToken cancellationToken);
}
