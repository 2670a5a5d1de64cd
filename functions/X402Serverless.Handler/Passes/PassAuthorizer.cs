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
            : await PassCharge.AuthorizeAsync(passes, cached.Link.Id, PassHolders.Payer(payerId), time.GetUtcNow(), http.RequestAborted) is { } charge
                ? ChargeAuthorization.Of(charge)
                : null;

    /// <summary>
    /// A wallet signed in with x402's sign-in-with-x: its pass on the link, a call taken; otherwise the 402 again,
    /// its error the reason (a refused proof's invalid_siwx_* code, or pass_spent / pass_expired / pass_revoked / no_pass).
    /// </summary>
    public async Task<ChargeAuthorization> FromWalletAsync(HttpContext http, CachedLink cached)
    {
        var link = cached.Link;
        var origin = new Uri(urls.LinkBaseUrl(http.Request));
        var proof = await siwx.VerifyAsync(http.Request, link, origin, "/l/" + link.Id, http.RequestAborted);
        if (proof.Wallet is not { } wallet)
        {
            usage.Count(link, UsageKinds.Challenged);
            return ChargeAuthorization.Refused(ChargeResults.Paywall(paywall, cached, proof.Code!, proof.Message));
        }
        var holder = PassHolders.Wallet(wallet);
        if (limits.AdmitPayer(http, link, holder) is { } limited)
        {
            return ChargeAuthorization.Refused(limited);
        }
        var now = time.GetUtcNow();
        if (await PassCharge.AuthorizeAsync(passes, link.Id, holder, now, http.RequestAborted) is { } charge)
        {
            return ChargeAuthorization.Of(charge);
        }
        var (code, message) = await WhyNotAsync(link.Id, holder, now, http.RequestAborted);
        usage.Count(link, UsageKinds.Challenged);
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
