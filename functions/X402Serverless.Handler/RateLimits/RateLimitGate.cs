using System.Globalization;
using Microsoft.Extensions.Options;
using X402Serverless.Core.Links;
using X402Serverless.Core.Protocol;
using X402Serverless.Core.Usage;
using X402Serverless.Handler.Hosting;
using X402Serverless.Handler.Paywall;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.RateLimits;

/// <summary>
/// A paid link's rate limits, checked before any payment is looked at, held or settled: a refused call is answered
/// 429 rate_limited with Retry-After, charges nothing and uses no payment (the same x402 payment is accepted when
/// retried later). Every call takes from its client address's bucket; a signed x402 payment also from its wallet's,
/// a payer key from its payer account's (<see cref="AdmitPayer"/>, once the account is known). An unpaid call has no
/// payer: it is limited per address only.
/// </summary>
internal sealed class RateLimitGate(TokenBuckets buckets, Charges.X402Charges x402, Usage.UsageRecorder usage, IOptions<GatewayOptions> options)
{
    private readonly RateLimit? _perPayer = RateLimitSettings.ToRule(options.Value.RateLimits.PerPayer);
    private readonly RateLimit? _perIp = RateLimitSettings.ToRule(options.Value.RateLimits.PerIp);
    private readonly RateLimit? _contractChecks = RateLimitSettings.ToRule(options.Value.RateLimits.ContractWalletChecksPerIp);
    private readonly RateLimit? _cardCheckouts = RateLimitSettings.ToRule(options.Value.RateLimits.CardCheckoutsPerIp);
    private readonly bool _behindFrontDoor = !string.IsNullOrWhiteSpace(options.Value.FrontDoorId);

    /// <summary>The per-address limit, and the per-wallet one for an x402 payment: null admits the call.</summary>
    public IResult? Admit(HttpContext http, CachedLink cached)
    {
        var link = cached.Link;
        var perIp = link.RateLimit?.PerIp ?? _perIp;
        var perPayer = link.RateLimit?.PerPayer ?? _perPayer;
        if (perIp is null && perPayer is null)
        {
            return null;
        }
        if (perIp is not null && buckets.TryTake(Key(link, 'a', ClientAddress.Partition(http, _behindFrontDoor)), perIp) is { } wait)
        {
            return Limited(http, link, wait, "this address");
        }
        if (perPayer is not null && Wallet(http, cached) is { } wallet
            && buckets.TryTake(Key(link, 'w', wallet), perPayer) is { } walletWait)
        {
            return Limited(http, link, walletWait, "this wallet");
        }
        return null;
    }

    /// <summary>The per-payer limit for a payer paying from balances, before any hold is placed: null admits the call.</summary>
    public IResult? AdmitPayer(HttpContext http, PaidLink link, string payerId) =>
        (link.RateLimit?.PerPayer ?? _perPayer) is { } perPayer && buckets.TryTake(Key(link, 'p', payerId), perPayer) is { } wait
            ? Limited(http, link, wait, "this payer")
            : null;

    /// <summary>
    /// An inbox message's per-sender limit on its claimed reply-to address (the per-payer rule): a sender changing
    /// wallets or keys still writes from one address. Null admits the message.
    /// </summary>
    public IResult? AdmitSender(HttpContext http, PaidLink link, string replyTo) =>
        (link.RateLimit?.PerPayer ?? _perPayer) is { } perPayer && buckets.TryTake(Key(link, 'r', replyTo.ToLowerInvariant()), perPayer) is { } wait
            ? Limited(http, link, wait, "this sender")
            : null;

    /// <summary>
    /// The wallet that signed the request's x402 payment, checked locally (decoded, matched to the link and its
    /// signature recovered) so a made-up "from" cannot drain someone else's bucket; null when there is none or it is
    /// not valid (the 402 that follows is limited per address). A contract wallet's payment, which only its node can
    /// check, counts per address too: limiting never waits on the chain.
    /// </summary>
    private string? Wallet(HttpContext http, CachedLink cached)
    {
        var (version, header) = PaymentHeaders.Read(http.Request);
        if (version == 0 || !cached.Link.Accepts402)
        {
            return null;
        }
        var check = x402.CheckLocally(header, version, cached.Requirements);
        return check is { Payment: { } payment, Requirement: not null } ? payment.Authorization.From.ToString() : null;
    }

    /// <summary>
    /// An x402 payment checked, the node asked only for a contract wallet's word, and that within the client address's
    /// gateway-wide allowance (<see cref="RateLimitOptions.ContractWalletChecksPerIp"/>): (check, null), or a 429 to answer.
    /// </summary>
    public async ValueTask<(PaymentCheck Check, IResult? Limited)> CheckPaymentAsync(HttpContext http, string header, int version,
        IReadOnlyList<PaymentRequirement> requirements)
    {
        var check = x402.CheckLocally(header, version, requirements);
        if (check.ContractWallet is null)
        {
            return (check, null);
        }
        return AdmitContractWalletCheck(http) is { } limited ? (check, limited) : (await x402.ResolveAsync(check, http.RequestAborted), null);
    }

    /// <summary>One contract wallet's word asked of the node for this client address: null admits it, else the 429 to answer.</summary>
    public IResult? AdmitContractWalletCheck(HttpContext http) =>
        _contractChecks is { } rule && buckets.TryTake("contract-wallet|" + ClientAddress.Partition(http, _behindFrontDoor), rule) is { } wait
            ? GatewayLimited(http, wait, "Too many contract-wallet payments from this address.",
                "Nothing was charged and no payment was used: the same payment can be sent again then.")
            : null;

    /// <summary>A card checkout opened from this client address (<see cref="RateLimitOptions.CardCheckoutsPerIp"/>): null admits it.</summary>
    public IResult? AdmitCardCheckout(HttpContext http) =>
        _cardCheckouts is { } rule && buckets.TryTake("card-checkout|" + ClientAddress.Partition(http, _behindFrontDoor), rule) is { } wait
            ? GatewayLimited(http, wait, "Too many card checkouts opened from this address.", "Nothing was charged.")
            : null;

    private static IResult GatewayLimited(HttpContext http, TimeSpan wait, string title, string nothingCharged)
    {
        var seconds = Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds));
        http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return Problem.Of(StatusCodes.Status429TooManyRequests, "rate_limited", title, $"Retry in {seconds} seconds. {nothingCharged}");
    }

    private static string Key(PaidLink link, char kind, string who) => string.Create(CultureInfo.InvariantCulture, $"{link.Id}|{kind}|{who}");

    private IResult Limited(HttpContext http, PaidLink link, TimeSpan wait, string who)
    {
        usage.Count(link, UsageKinds.RateLimited);
        return GatewayLimited(http, wait, $"Too many calls to this link from {who}.",
            "Nothing was charged and no payment was used: the same payment can be sent again then.");
    }
}
