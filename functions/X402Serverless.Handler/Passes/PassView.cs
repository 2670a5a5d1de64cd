using X402Serverless.Core.Money;
using X402Serverless.Core.Passes;

namespace X402Serverless.Handler.Passes;

/// <summary>A pass as the purchase answer and the provider's and payer's lists show it.</summary>
internal sealed record PassView(
    string Id,
    string LinkId,
    string Holder,
    string Status,
    Usd Price,
    string PaidWith,
    string PaymentRef,
    int? Calls,
    int? CallsLeft,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? RevokedAt,
    string? RevokedReason,
    DateTimeOffset CreatedAt,
    string Use)
{
    public static PassView From(Pass pass, DateTimeOffset now) => new(
        pass.Id,
        pass.LinkId,
        pass.Holder,
        pass.Status(now),
        pass.Price,
        pass.PaidWith,
        pass.PaymentRef,
        pass.Calls,
        pass.CallsLeft,
        pass.ExpiresAt,
        pass.RevokedAt,
        pass.RevokedReason,
        pass.CreatedAt,
        pass.Holder.StartsWith("payer:", StringComparison.Ordinal)
            ? "Call the link with 'Authorization: Bearer <payer key>': the pass is used before credits."
            : $"Call the link with a {SiwxPayload.HeaderName} header signed by this wallet (x402 sign-in-with-x; the link's 402 carries the challenge).");
}
