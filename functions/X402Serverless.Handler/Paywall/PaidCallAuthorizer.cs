using X402Serverless.Core.Charges;
using X402Serverless.Core.Credits;
using X402Serverless.Core.Kyc;
using X402Serverless.Core.Links;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Protocol;
using X402Serverless.Core.Signup;
using X402Serverless.Core.Usage;
using X402Serverless.Handler.Payers;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Paywall;

/// <summary>
/// Chooses how a paid request pays and authorizes it, link policy (KYC, caps) included: a payer key pays from
/// balances, a payment header with x402, nothing gets the 402 challenge. A refusal has authorized nothing.
/// </summary>
internal sealed class PaidCallAuthorizer(
    X402Authorizer x402,
    Transfers.TransferAuthorizer transfers,
    CreditCharges credits,
    IPayerStore payers,
    IKycStore kyc,
    PaymentRequiredResponder paywall,
    Usage.UsageRecorder usage,
    RateLimits.RateLimitGate limits,
    Passes.PassAuthorizer passes,
    ISignupStore signups)
{
    /// <param name="holdId">The id a balance hold takes, chosen by an idempotent call that keeps it; a new one when null.</param>
    public async Task<ChargeAuthorization> AuthorizeAsync(HttpContext http, CachedLink cached, string? holdId = null)
    {
        var (version, header) = PaymentHeaders.Read(http.Request);
        if (version == 0 && PayerKeys.FromRequest(http.Request) is { } payerKey)
        {
            return await FromBalanceAsync(http, cached, payerKey, holdId);
        }
        var takesBalances = cached.Link.Accepts.Any(a => a is PaymentTypes.Credits or PaymentTypes.Allowance);
        if (cached.Requirements.Count == 0 && !takesBalances)
        {
            return ChargeAuthorization.Refused(
                Problem.Of(StatusCodes.Status503ServiceUnavailable, "link_unpayable", "This link has no network it can be paid on right now."));
        }
        if (version == 0 && (cached.Link.Pass is not null || takesBalances) && Passes.SiwxVerifier.Present(http.Request))
        {
            // A wallet signs in (x402 sign-in-with-x) instead of paying: to spend its pass, or the credits of the payer
            // account it signed up with.
            return takesBalances ? await FromSignedInWalletAsync(http, cached) : await passes.FromWalletAsync(http, cached);
        }
        if (version == 0)
        {
            usage.Count(cached.Link, UsageKinds.Challenged);
            return ChargeAuthorization.Refused(ChargeResults.Paywall(paywall, cached, ReasonCodes.PaymentRequired, null));
        }
        // A transaction hash (x402 TXID) rides in PAYMENT-SIGNATURE too; looked for only on links that take transfers.
        if (version == 2 && cached.Link.AcceptsTransfer && Core.Transfers.TxidProofDecoder.Decode(header) is { IsTxid: true } txid)
        {
            return await transfers.AuthorizeAsync(http, cached, txid);
        }
        return await x402.AuthorizeAsync(http, cached, version, header);
    }

    /// <summary>A payer's allowance or credits: the payer known and admitted, then a hold within every cap.</summary>
    private async Task<ChargeAuthorization> FromBalanceAsync(HttpContext http, CachedLink cached, string payerKey, string? holdId)
    {
        var payer = await payers.FindByKeyHashAsync(Core.Access.ManagementKeys.Hash(payerKey), http.RequestAborted);
        if (payer is null)
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return ChargeAuthorization.Refused(Problem.Of(StatusCodes.Status401Unauthorized, "invalid_payer_key", "The payer key is not valid."));
        }
        return await FromPayerAsync(http, cached, payer, holdId);
    }

    /// <summary>
    /// A wallet signed in on a link taking balances: its own pass first (on a link selling passes), then the payer
    /// account the wallet signed up with (POST /api/signup/payer binds it), paid as that payer's key would pay. A wallet
    /// bound to no payer gets the 402 with no_payer_account (or, on a link selling passes, why it has no pass).
    /// </summary>
    private async Task<ChargeAuthorization> FromSignedInWalletAsync(HttpContext http, CachedLink cached)
    {
        var (wallet, refused) = await passes.SignInAsync(http, cached);
        if (refused is not null)
        {
            return refused;
        }
        if (await passes.FromWalletPassAsync(http, cached, wallet!.Value) is { } pass)
        {
            return pass;
        }
        var binding = await signups.FindWalletAsync(WalletBinding.Payer, wallet.Value.ToLowerHex(), http.RequestAborted);
        if (binding is not null && await payers.GetAsync(binding.AccountId, http.RequestAborted) is { } payer)
        {
            if (UnboundCreditSpend(http.Request, cached) is { } unbound)
            {
                usage.Count(cached.Link, UsageKinds.Challenged);
                return ChargeAuthorization.Refused(ChargeResults.Paywall(paywall, cached, unbound.Code, unbound.Message));
            }
            return await FromPayerAsync(http, cached, payer, holdId: null);
        }
        if (cached.Link.Pass is not null)
        {
            return await passes.NoPassAsync(http, cached, wallet.Value);
        }
        usage.Count(cached.Link, UsageKinds.Challenged);
        return ChargeAuthorization.Refused(ChargeResults.Paywall(paywall, cached, "no_payer_account",
            "This wallet has no payer account here; sign up as a payer with it (POST /api/signup/payer), or pay another way."));
    }

    /// <summary>
    /// Why a (valid) sign-in proof may not spend credits on this request, or null: credits go only to the exact path
    /// its uri names, with the method and up to the amount its statement names (<see cref="Core.Passes.CreditSpendStatement"/>).
    /// </summary>
    private static (string Code, string Message)? UnboundCreditSpend(HttpRequest request, CachedLink cached)
    {
        var proof = Core.Passes.SiwxPayload.Parse(request.Headers[Core.Passes.SiwxPayload.HeaderName].ToString())!;
        var signedPath = PathString.FromUriComponent(new Uri(proof.Uri)).Value?.TrimEnd('/') ?? "";
        if (!string.Equals(signedPath, request.Path.Value?.TrimEnd('/') ?? "", StringComparison.Ordinal))
        {
            return ("invalid_siwx_uri_mismatch", "To pay from credits, the proof's uri must be this request's URL (a proof pays for the path it names only).");
        }
        return Core.Passes.CreditSpendStatement.Check(proof.Statement, request.Method, cached.Price);
    }

    private async Task<ChargeAuthorization> FromPayerAsync(HttpContext http, CachedLink cached, Core.Payers.Payer payer, string? holdId)
    {
        if (cached.Link.KycLevel != KycLevels.None && !ChargeResults.Verified(await kyc.GetAsync(payer.Id, http.RequestAborted), cached.Link))
        {
            return ChargeAuthorization.Refused(ChargeResults.KycRequired(cached.Link));
        }
        if (limits.AdmitPayer(http, cached.Link, payer.Id) is { } limited)
        {
            return ChargeAuthorization.Refused(limited);
        }
        // A pass for this link is used before the balance is.
        if (await passes.FromPayerAsync(http, cached, payer.Id) is { } pass)
        {
            return pass;
        }
        var (charge, reason) = await BalanceCharge.AuthorizeAsync(credits, payer, cached.Link, cached.Price, http.RequestAborted, holdId);
        if (charge is null)
        {
            return ChargeAuthorization.Refused(ChargeResults.Paywall(paywall, cached, reason!, reason switch
            {
                CreditCharges.CapReached => "A spending cap for this payer, organisation or link is reached for the period.",
                CreditCharges.NotAccepted => "This link does not accept credits or allowances.",
                _ => "The allowance and credits do not cover this call; top up and retry.",
            }));
        }
        return ChargeAuthorization.Of(charge);
    }
}
