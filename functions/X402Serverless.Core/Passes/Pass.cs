using X402Serverless.Core.Money;

namespace X402Serverless.Core.Passes;

/// <summary>
/// A pass sold by a link, bound to who paid for it (<see cref="Holder"/>): usable on that link until its calls are
/// spent (<see cref="CallsLeft"/>), it expires (<see cref="ExpiresAt"/>) or the provider revokes it. Never a bearer
/// token: only the holder's own credential (payer key) or signature (sign-in-with-x) spends it.
/// </summary>
public sealed record Pass
{
    /// <summary>Derived from the payment that bought it, so issuing twice for one payment issues one pass.</summary>
    public required string Id { get; init; }

    public required string LinkId { get; init; }

    public required string OrganisationId { get; init; }

    /// <summary>"payer:&lt;payer id&gt;" or "wallet:&lt;lower-case address&gt;" (<see cref="PassHolders"/>).</summary>
    public required string Holder { get; init; }

    public required Usd Price { get; init; }

    /// <summary>The payment that bought it: an x402 payment id, or the credits hold id.</summary>
    public required string PaymentRef { get; init; }

    /// <summary>How it was paid (<see cref="Links.PaymentTypes"/>).</summary>
    public required string PaidWith { get; init; }

    /// <summary>Calls it was sold with; null: any number within its time.</summary>
    public int? Calls { get; init; }

    /// <summary>Calls still unspent (held calls count as spent until released); null when unbounded.</summary>
    public int? CallsLeft { get; init; }

    /// <summary>When it stops working; null when only calls bound it.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    public DateTimeOffset? RevokedAt { get; init; }

    /// <summary>Why it was revoked (<see cref="PassRevocations"/>); null when not revoked, or revoked before reasons were kept.</summary>
    public string? RevokedReason { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>Whether a call may spend it now (the store decides atomically; this is for display and refusals).</summary>
    public string Status(DateTimeOffset now) =>
        RevokedAt is not null ? PassStatuses.Revoked
        : ExpiresAt <= now ? PassStatuses.Expired
        : CallsLeft <= 0 ? PassStatuses.Spent
        : PassStatuses.Active;

    /// <summary>A new pass for <paramref name="holder"/> as <paramref name="offer"/> sells it, bought at <paramref name="now"/>.</summary>
    public static Pass Issue(Links.PaidLink link, PassOffer offer, string holder, string paymentRef, string paidWith, DateTimeOffset now) => new()
    {
        Id = PassIds.For(link.Id, paymentRef),
        LinkId = link.Id,
        OrganisationId = link.OrganisationId,
        Holder = holder,
        Price = offer.Price,
        PaymentRef = paymentRef,
        PaidWith = paidWith,
        Calls = offer.Calls,
        CallsLeft = offer.Calls,
        ExpiresAt = offer.Minutes is { } minutes ? now.AddMinutes(minutes) : null,
        CreatedAt = now,
    };
}

/// <summary>A pass's state as the APIs show it; also the stable codes of a refused pass call ("pass_" + status).</summary>
public static class PassStatuses
{
    public const string Active = "active";
    public const string Spent = "spent";
    public const string Expired = "expired";
    public const string Revoked = "revoked";
}

/// <summary>Why a pass was revoked, as the lists show it.</summary>
public static class PassRevocations
{
    /// <summary>The provider revoked it (API or console).</summary>
    public const string Provider = "provider";

    /// <summary>The card payment that bought it was refunded (fully or partly) in Stripe.</summary>
    public const string Refunded = "refunded";

    /// <summary>The card payment that bought it was disputed (a chargeback).</summary>
    public const string Disputed = "disputed";
}

/// <summary>Who a pass is bound to: a payer account or a wallet, one string so stores index and compare it as is.</summary>
public static class PassHolders
{
    public static string Payer(string payerId) => "payer:" + payerId;

    public static string Wallet(Evm.EvmAddress wallet) => "wallet:" + wallet.ToLowerHex();
}

/// <summary>Pass ids: "pas_" and 24 hex digits of SHA-256 over the link and the paying payment.</summary>
public static class PassIds
{
    public static string For(string linkId, string paymentRef) =>
        "pas_" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(linkId + "\n" + paymentRef)))[..24];
}
