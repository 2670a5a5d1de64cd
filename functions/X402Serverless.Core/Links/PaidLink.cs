using X402Serverless.Core.Money;

namespace X402Serverless.Core.Links;

/// <summary>
/// A provider's paid link: an upstream URL behind a price. <see cref="SealedUpstreamHeaders"/> holds the provider's
/// secret headers encrypted; it is opened only to forward a paid request.
/// </summary>
public sealed record PaidLink
{
    public required string Id { get; init; }

    public required string OrganisationId { get; init; }

    public string? Name { get; init; }

    public string? Description { get; init; }

    public required string Upstream { get; init; }

    public required Usd Price { get; init; }

    /// <summary>EIP-55 address that receives the USDC.</summary>
    public required string PayTo { get; init; }

    /// <summary>CAIP-2 network ids, in the order they are offered.</summary>
    public required IReadOnlyList<string> Networks { get; init; }

    /// <summary>
    /// Networks (a subset of <see cref="Networks"/>) whose 402 asks for a Permit2 payment
    /// (<c>extra.assetTransferMethod: "permit2"</c>) instead of an EIP-3009 authorization.
    /// </summary>
    public IReadOnlyList<string> Permit2Networks { get; init; } = [];

    /// <summary>Upper-case HTTP methods; empty means all.</summary>
    public required IReadOnlyList<string> Methods { get; init; }

    public string? SealedUpstreamHeaders { get; init; }

    /// <summary>"sync" or "deferred" settlement.</summary>
    public string Settlement { get; init; } = Payments.SettlementModes.Sync;

    /// <summary>Deferred links: which wallets get content before settlement (<see cref="Payments.DeferredPayers"/>).</summary>
    public string DeferredPayers { get; init; } = Payments.DeferredPayers.Returning;

    /// <summary>Before calling the upstream, also check the payer's balance and the authorization's state on chain.</summary>
    public bool VerifyOnChain { get; init; }

    /// <summary>x402 payments must carry a <c>payment-identifier</c> id (the 402 declares it required).</summary>
    public bool PaymentIdentifierRequired { get; init; }

    /// <summary>Accepted payment types (<see cref="PaymentTypes"/>).</summary>
    public IReadOnlyList<string> Accepts { get; init; } = [PaymentTypes.X402];

    /// <summary>Which upstream answers are charged (<see cref="ChargePolicies"/>).</summary>
    public string ChargeOn { get; init; } = ChargePolicies.Success;

    /// <summary>Other prices for some methods or paths (<see cref="PriceRule"/>); the most specific match wins.</summary>
    public IReadOnlyList<PriceRule> PriceRules { get; init; } = [];

    /// <summary>What a request with this method and path (relative to the link, starting with '/') costs.</summary>
    public Usd PriceFor(string method, string path) => PriceRule.Match(PriceRules, method, path)?.Price ?? Price;

    /// <summary>Most one payer may spend on this link per UTC day; null: no cap.</summary>
    public Usd? DailyCapPerPayer { get; init; }

    /// <summary>Least verified identity a payer needs (<see cref="Kyc.KycLevels"/>); "none" lets anyone pay.</summary>
    public string KycLevel { get; init; } = Kyc.KycLevels.None;

    /// <summary>ISO 3166-1 alpha-2 countries a verified payer must be from; empty: any.</summary>
    public IReadOnlyList<string> KycCountries { get; init; } = [];

    /// <summary>Whether a verification at this level, in this country, meets the link's KYC policy (whoever vouches for it).</summary>
    public bool AdmitsKyc(string level, string? country) =>
        Kyc.KycLevels.Rank(level) >= Kyc.KycLevels.Rank(KycLevel)
        && (KycCountries.Count == 0 || (country is not null && KycCountries.Contains(country)));

    public bool Accepts402 => Accepts.Contains(PaymentTypes.X402);

    /// <summary>Takes a transaction hash of an ordinary transfer to payTo (x402 TXID), on the link's x402 networks.</summary>
    public bool AcceptsTransfer => Accepts402 && Accepts.Contains(PaymentTypes.Transfer);

    /// <summary>"remote" or "builtin"; null follows the deployment's default.</summary>
    public string? Facilitator { get; init; }

    /// <summary>Rate limits of this link; null (or a limit left out) follows the gateway's defaults.</summary>
    public LinkRateLimits? RateLimit { get; init; }

    /// <summary>How the link shows in the public catalogue and discovery, if <see cref="LinkListing.Listed"/>.</summary>
    public LinkListing Listing { get; init; } = LinkListing.None;

    /// <summary>Set when the link is a paid inbox: a paid POST is a message mailed to its owner, never forwarded.</summary>
    public Inbox.InboxSettings? Inbox { get; init; }

    /// <summary>The pass this link sells, if any (<see cref="Passes.PassOffer"/>).</summary>
    public Passes.PassOffer? Pass { get; init; }

    /// <summary>
    /// Switched off by its organisation: the paid URL refuses every call before any payment is looked at, and the
    /// link leaves the catalogue and discovery until it is enabled again. Nothing else about it changes.
    /// </summary>
    public bool Disabled { get; init; }

    /// <summary>Whether the catalogue, discovery and health probes show it: listed and not disabled.</summary>
    public bool Public => Listing.Listed && !Disabled;

    public required DateTimeOffset CreatedAt { get; init; }

    public required DateTimeOffset UpdatedAt { get; init; }

    public bool AllowsMethod(string method) =>
        Methods.Count == 0 || Methods.Contains(method, StringComparer.OrdinalIgnoreCase);
}
