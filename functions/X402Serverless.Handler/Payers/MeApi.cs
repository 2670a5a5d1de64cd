using X402Serverless.Core.Access;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Money;
using X402Serverless.Handler.Credits;
using X402Serverless.Handler.Kyc;
using X402Serverless.Handler.Passes;
using X402Serverless.Handler.Stripe;

namespace X402Serverless.Handler.Payers;

/// <summary>/api/me: what a payer sees with their own key — balances, allowance, usage, keys.</summary>
internal static class MeApi
{
    public static void MapMeApi(this IEndpointRouteBuilder app)
    {
        var me = app.MapGroup("/api/me").AddEndpointFilter<PayerAuthFilter>();
        me.MapGet("", async (HttpContext http, PayerAccounts accounts) => TypedResults.Ok(await accounts.ViewAsync(PayerAuthFilter.Of(http), http.RequestAborted)));
        me.MapGet("/usage", UsageAsync);
        me.MapPayerCardTopUps();
        me.MapUsdcTopUp();
        me.MapKycStart();
        me.MapKycAttestations();
        me.MapPayerPasses();
        me.MapPayerKeys(http => PayerAuthFilter.Of(http).Id);
    }

    private static async Task<IResult> UsageAsync(HttpContext http, ILedger ledger, int? limit)
    {
        var payer = PayerAuthFilter.Of(http);
        var take = Math.Clamp(limit ?? 50, 1, 500);
        var postings = (await ledger.PostingsAsync(Accounts.Credits(payer.Id), take, http.RequestAborted))
            .Concat(await ledger.PostingsAsync(Accounts.Allowance(payer.OrganisationId, payer.Id), take, http.RequestAborted))
            .OrderByDescending(p => p.Sequence)
            .Take(take)
            .Select(p => new
            {
                at = p.At,
                kind = p.Kind,
                account = p.Account.StartsWith("allowance:", StringComparison.Ordinal) ? "allowance" : "credits",
                amount = p.Amount.ToString(),
                reference = p.Memo,
            });
        return TypedResults.Ok(new { items = postings });
    }
}
