namespace X402Serverless.Core.Payments;

/// <summary>
/// Filters for a provider's payment listing, newest first (ties by id). <see cref="Before"/> starts below a time;
/// <see cref="After"/> continues after a listed row, so rows sharing one instant are neither skipped nor repeated.
/// </summary>
public sealed record PaymentQuery(PaymentStatus? Status = null, string? LinkId = null, int Limit = 100, DateTimeOffset? Before = null,
    PaymentCursor? After = null);
