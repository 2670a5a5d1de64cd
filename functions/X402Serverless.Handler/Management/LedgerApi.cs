using X402Serverless.Core.Ports;
using X402Serverless.Core.Money;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Management;

/// <summary>
/// GET /api/ledger/trial-balance (operator only): every account with its cached balance and the sum of its postings,
/// and the ledger total, which is zero when every entry balanced. What an auditor asks for first.
/// </summary>
internal static class LedgerApi
{
    public static void MapLedgerApi(this RouteGroupBuilder api) =>
        api.MapGet("/ledger/trial-balance", async (HttpContext http, ILedger ledger) =>
        {
            if (!CallerContext.Of(http).Organisation.IsOperator)
            {
                return Problem.Of(StatusCodes.Status403Forbidden, "forbidden", "Only the operator organisation can read the whole ledger.");
            }
            var rows = await ledger.TrialBalanceAsync(http.RequestAborted);
            return TypedResults.Ok(new
            {
                total = (await ledger.TotalAsync(http.RequestAborted)).ToString(),
                consistent = rows.All(r => r.Balance == r.PostedSum),
                accounts = rows.Select(r => new { account = r.Account, balance = r.Balance.ToString(), posted = r.PostedSum.ToString() }),
            });
        });
}
