using X402Serverless.Core.Charges;
using X402Serverless.Core.Facilitation;
using X402Serverless.Core.Kyc;
using X402Serverless.Core.Links;
using X402Serverless.Core.Money;
using X402Serverless.Handler.Forwarding;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Paywall;

/// <summary>The HTTP form of the paid path's answers: receipts as headers, refusals as problems or a 402.</summary>
internal static class ChargeResults
{
    public const string SettlementPendingCode = "settlement_pending";

    /// <summary>The receipt on a delivered response; the header names are the protocol's, or ours for balances.</summary>
    public static void WriteReceipt(HttpContext http, ChargeReceipt receipt)
    {
        var headers = http.Response.Headers;
        switch (receipt)
        {
            case BalanceReceipt balance:
                headers["X-Charged"] = balance.Amount.ToString();
                headers["X-Charged-From"] = balance.FromAllowance ? PaymentTypes.Allowance : PaymentTypes.Credits;
                break;
            case Core.Passes.PassReceipt pass:
                headers["X-Pass-Id"] = pass.PassId;
                if (pass.CallsLeft is { } left)
                {
                    headers["X-Pass-Calls-Left"] = left.ToString(System.Globalization.CultureInfo.InvariantCulture);
                }
                if (pass.ExpiresAt is { } expires)
                {
                    headers["X-Pass-Expires-At"] = expires.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
                }
                break;
            case X402Receipt { Deferred: true } deferred:
                headers["X-Payment-Id"] = deferred.Payment.Id;
                headers["X-Payment-Settlement"] = "deferred";
                break;
            case X402Receipt settled:
                WriteSettlement(http, settled);
                headers["X-Payment-Id"] = settled.Payment.Id;
                headers.AccessControlExposeHeaders = PaymentHeaders.Exposed;
                break;
        }
    }

    /// <summary>PAYMENT-RESPONSE (v2) or X-PAYMENT-RESPONSE (v1): the settle response, successful or refused.</summary>
    public static void WriteSettlement(HttpContext http, X402Receipt receipt)
    {
        var payer = receipt.Payment.Payer;
        var outcome = receipt.Transaction is not null
            ? new SettleOutcome(true, true, receipt.Transaction, receipt.Network, payer, null, null)
            : new SettleOutcome(true, false, null, receipt.Network, payer, receipt.ErrorReason, receipt.ErrorMessage);
        http.Response.Headers[SettlementResponse.HeaderName(receipt.Version)] = SettlementResponse.Encode(outcome, receipt.Network, payer);
    }

    public static IResult Paywall(PaymentRequiredResponder responder, CachedLink cached, string reason, string? message) =>
        new PaywallResult(responder, cached, reason, message);

    public static bool Verified(KycRecord? record, PaidLink link) => record is { Status: KycStatuses.Verified } && link.AdmitsKyc(record.Level, record.Country);

    public static IResult KycRequired(PaidLink link) => Problem.Of(StatusCodes.Status403Forbidden, "kyc_required",
        "This link is paid only by verified payers; nothing was charged.",
        $"Verification level '{link.KycLevel}' or above{(link.KycCountries.Count > 0 ? " from " + string.Join(", ", link.KycCountries) : "")} is needed. Verify once (POST /api/me/kyc); x402 wallets count when the verification lists them or the request carries a trusted KYC-ATTESTATION.");

    public static IResult UpstreamProblem(UpstreamOutcome outcome) => outcome.Failure switch
    {
        UpstreamFailure.Timeout => Problem.Of(StatusCodes.Status504GatewayTimeout, "upstream_timeout", "The upstream timed out; nothing was charged.", outcome.Detail),
        UpstreamFailure.AddressRefused => Problem.Of(StatusCodes.Status502BadGateway, "upstream_address_refused", "The upstream address is not allowed; nothing was charged.", outcome.Detail),
        _ => Problem.Of(StatusCodes.Status502BadGateway, "upstream_unreachable", "The upstream could not be reached; nothing was charged.", outcome.Detail),
    };

    /// <summary>The payment was still settling: the content is withheld, and delivered to a retry of the same payment.</summary>
    public static IResult SettlementPending(HttpContext http, string title, string detail)
    {
        http.Response.Headers.RetryAfter = "5";
        return Problem.Of(StatusCodes.Status503ServiceUnavailable, SettlementPendingCode, title, detail);
    }

    private sealed class PaywallResult(PaymentRequiredResponder responder, CachedLink cached, string reason, string? message) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext) => responder.WriteAsync(httpContext, cached, reason, message);
    }
}
