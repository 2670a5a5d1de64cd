using X402Serverless.Core.Payments;

namespace X402Serverless.Core.Ports;

/// <summary>x402 payments and the replay guard.</summary>
public interface IPaymentStore
{
    /// <summary>Inserts the payment as Reserved; false when a payment with the same id already exists (replay or in flight).</summary>
    Task<bool> TryReserveAsync(PaymentRecord payment, CancellationToken cancellationToken);

    Task<PaymentRecord?> GetAsync(string id, CancellationToken cancellationToken);

    Task MarkSettledAsync(string id, string transaction, DateTimeOffset at, CancellationToken cancellationToken);

    Task MarkFailedAsync(string id, string reason, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Deletes a Reserved payment that was not charged, so the same authorization may be used again.</summary>
    Task ReleaseAsync(string id, CancellationToken cancellationToken);
}
