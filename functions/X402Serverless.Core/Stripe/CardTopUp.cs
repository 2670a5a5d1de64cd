using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;

namespace X402Serverless.Core.Stripe;

/// <summary>
/// A card top-up, recorded when its Stripe Checkout Session is created and keyed by the session id. When Stripe's
/// signed webhook says the session is paid, this record (never the event's metadata) says which account is credited
/// and by how much: a session the gateway did not open for a top-up credits nothing.
/// </summary>
public sealed record CardTopUp
{
    public const string Payer = "payer";
    public const string Organisation = "organisation";

    public required string SessionId { get; init; }

    /// <summary><see cref="Payer"/> (its credits) or <see cref="Organisation"/> (its allowance pool).</summary>
    public required string Kind { get; init; }

    /// <summary>The payer or organisation id, as authenticated when the checkout was opened.</summary>
    public required string AccountId { get; init; }

    /// <summary>The amount the session charges (whole cents), in <see cref="Currency"/>.</summary>
    public required Usd Amount { get; init; }

    public required string Currency { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>The ledger account credited, or null for a kind this version does not know.</summary>
    public string? LedgerAccount => Kind switch
    {
        Payer => Accounts.Credits(AccountId),
        Organisation => Accounts.Pool(AccountId),
        _ => null,
    };
}
