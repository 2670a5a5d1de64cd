using System.Security.Cryptography;
using System.Text;

namespace X402Serverless.Core.Passes;

/// <summary>
/// A card purchase of a pass, recorded when its Stripe Checkout Session is created and keyed by the session id.
/// When Stripe's signed webhook says the session is paid, this record (never the event's metadata) says which link,
/// which offer and which payer the pass is for: a session the gateway did not open for a pass issues nothing.
/// </summary>
public sealed record PassCheckout
{
    /// <summary>How a card-bought pass shows as paid (<see cref="Pass.PaidWith"/>).</summary>
    public const string PaidWith = "card";

    public required string SessionId { get; init; }

    public required string LinkId { get; init; }

    public required string OrganisationId { get; init; }

    /// <summary>The offer as sold when the checkout opened: a later change to the link's pass does not change what was bought.</summary>
    public required PassOffer Offer { get; init; }

    /// <summary>The payer the pass is bound to: the buyer's own account, or the one created for the buyer on completion.</summary>
    public required string PayerId { get; init; }

    /// <summary>
    /// Set when the buyer had no account: the id and SHA-256 hash of the payer key the buyer's browser holds (and is
    /// shown once on the return page). The account is created in the link's organisation with this key when paid.
    /// </summary>
    public string? NewKeyId { get; init; }

    public string? NewKeyHash { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>What the pass is issued against: the session, so every delivery of its events issues one pass.</summary>
    public string PaymentRef => PaymentRefFor(SessionId);

    public static string PaymentRefFor(string sessionId) => "stripe:" + sessionId;

    /// <summary>The payer account a buyer without one gets: derived from the session, so completing twice creates it once.</summary>
    public static string NewPayerIdFor(string sessionId) => "payer_card" + Hash(sessionId)[..20];

    public static string NewKeyIdFor(string sessionId) => "pkey_card" + Hash(sessionId)[..20];

    private static string Hash(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));
}
