namespace X402Serverless.Core.Payments;

/// <summary>Filters for a provider's payment listing, newest first.</summary>
public sealed record PaymentQuery(PaymentStatus? Status = null, string? LinkId = null, int Limit = 100, DateTimeOffset? Before = null);
