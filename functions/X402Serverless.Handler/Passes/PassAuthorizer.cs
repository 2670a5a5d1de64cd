using X402Serverless.Core.Evm;
using X402Serverless.Core.Links;
using X402Serverless.Core.Passes;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Usage;
using X402Serverless.Handler.Hosting;
using X402Serverless.Handler.Paywall;

namespace X402Serverless.Handler.Passes;

/// <summary>
/// A call paid by a pass: a payer account's (its payer key already checked) or a wallet's (proved by sign-in-with-x).
/// The call is taken from the pass as a charge (<see cref="PassCharge"/>), so a failed upstream gives it back.
/// </summary>
internal sealed class PassAuthorizer(IPassStore passes, SiwxVerifier siwx, PaymentRequiredResponder paywall, PublicUrls urls,
    Usage.UsageRecorder usage, RateLimits.RateLimitGate limits, TimeProvider time)
{
    /// <summary>The payer's pass on the link, a call taken; null when it has none usable (it pays from its balance then).</summary>
    public async Task<ChargeAuthorization?> FromPayerAsync(HttpContext http, CachedLink cached, string payerId) =>
        cached.Link.Pass is null
            ? null
            : await PassCharge.AuthorizeAsync(passes, cached.Link.Id, PassHolders.Payer(payerId), time, http.RequestAborted) is { } charge
                ? ChargeAuthorization.Of(charge)
                : null;

    /// <summary>
    /// A wallet signed in with x402's sign-in-with-x: its pass on the link, a call taken; otherwise the 402 again,
    /// its error the reason (a refused proof's invalid_siwx_* code, or pass_spent / pass_expired / pass_revoked / no_pass).
    /// </summary>
    public async Task<ChargeAuthorization> FromWalletAsync(HttpContext http, CachedLink cached)
    {
        var (wallet, refused) = await SignInAsync(http, cached);
        if (refused is not null)
        {
            return refused;
        }
        return await FromWalletPassAsync(http, cached, wallet!.Value) ?? await NoPassAsync(http, cached, wallet.Value);
    }

    /// <summary>
    /// The wallet a request's sign-in-with-x proof (for this link, once) shows, admitted by the rate limit; or the
    /// refusal to answer (the 402 with the proof's invalid_siwx_* code, or the rate limit's).
    /// </summary>
    public async Task<(EvmAddress? Wallet, ChargeAuthorization? Refused)> SignInAsync(HttpContext http, CachedLink cached)
    {
        var link = cached.Link;
        var origin = new Uri(urls.LinkBaseUrl(http.Request));
        var proof = await siwx.VerifyAsync(http.Request, link, origin, "/l/" + link.Id, http.RequestAborted);
        if (proof.Wallet is not { } wallet)
        {
            usage.Count(link, UsageKinds.Challenged);
            return (null, ChargeAuthorization.Refused(ChargeResults.Paywall(paywall, cached, proof.Code!, proof.Message)));
        }
        if (limits.AdmitPayer(http, link, PassHolders.Wallet(wallet)) is { } limited)
        {
            return (null, ChargeAuthorization.Refused(limited));
        }
        return (wallet, null);
    }

    /// <summary>The wallet's own pass on the link, a call taken; null when the link sells none or the wallet has none usable.</summary>
    public async Task<ChargeAuthorization?> FromWalletPassAsync(HttpContext http, CachedLink cached, EvmAddress wallet) =>
        cached.Link.Pass is not null
        && await PassCharge.AuthorizeAsync(passes, cached.Link.Id, PassHolders.Wallet(wallet), time, http.RequestAborted) is { } charge
            ? ChargeAuthorization.Of(charge)
            : null;

    /// <summary>The 402 again, saying why the wallet has no usable pass.</summary>
    public async Task<ChargeAuthorization> NoPassAsync(HttpContext http, CachedLink cached, EvmAddress wallet)
    {
        var (code, message) = await WhyNotAsync(cached.Link.Id, PassHolders.Wallet(wallet), time.GetUtcNow(), http.RequestAborted);
        usage.Count(cached.Link, UsageKinds.Challenged);
        return ChargeAuthorization.Refused(ChargeResults.Paywall(paywall, cached, code, message));
    }

    /// <summary>Why a holder has no usable pass on a link: a stable code and a sentence (read only when refusing).</summary>
    public async Task<(string Code, string Message)> WhyNotAsync(string linkId, string holder, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var held = await passes.ListForHolderAsync(holder, linkId, 20, cancellationToken);
        return held.Count == 0
            ? (PassCodes.NoPass, "This wallet holds no pass for this link; buy one or pay for the call.")
            : held.Select(p => p.Status(now)).Contains(PassStatuses.Spent)
                ? (PassCodes.Spent, "This pass's calls are spent; buy a new pass or pay for the call.")
                : held.Select(p => p.Status(now)).Contains(PassStatuses.Expired)
                    ? (PassCodes.Expired, "This pass has expired; buy a new pass or pay for the call.")
                    : (PassCodes.Revoked, "This pass was revoked by the provider; buy a new pass or pay for the call.");
    }
}

/// <summary>Stable codes of a pass call refused.</summary>
internal static class PassCodes
{
    public const string NoPass = "no_pass";
    public const string Spent = "pass_spent";
    public const string Expired = "pass_expired";
    public const string Revoked = "pass_revoked";
}
