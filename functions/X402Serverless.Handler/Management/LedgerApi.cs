using Microsoft.AspNetCore.Http.HttpResults;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Money;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Management;

/// <summary>
/// GET /api/ledger/postings.csv: the organisation's own accounts' postings. GET /api/ledger/trial-balance (operator only): every account with its cached balance and the sum of its postings,
/// and the ledger total, which is zero when every entry balanced. What an auditor asks for first.
/// </summary>
internal static class LedgerApi
{
    public static void MapLedgerApi(this RouteGroupBuilder api)
    {
        // The caller's organisation's own accounts: billing.read, like its balances.
        api.MapGet("/ledger/postings.csv", (HttpContext http, ILedger ledger, IPayerStore payers) =>
            PostingsDownload(http, ledger, payers, CallerContext.Of(http).Organisation.Id));
        api.MapGet("/ledger/trial-balance", async Task<Results<Ok<TrialBalanceView>, ProblemHttpResult>> (HttpContext http, ILedger ledger) =>
        {
            if (!CallerContext.Of(http).Organisation.IsOperator)
            {
                return Problem.Typed(StatusCodes.Status403Forbidden, "forbidden", "Only the operator organisation can read the whole ledger.");
            }
            var rows = await ledger.TrialBalanceAsync(http.RequestAborted);
            return TypedResults.Ok(new TrialBalanceView(
                await ledger.TotalAsync(http.RequestAborted),
                rows.All(r => r.Balance == r.PostedSum),
                rows.Select(r => new TrialBalanceAccount(r.Account, r.Balance, r.PostedSum))));
        });
    }

    /// <summary>The organisation's postings as a CSV download (shared with the console).</summary>
    public static IResult PostingsDownload(HttpContext http, ILedger ledger, IPayerStore payers, string organisationId) =>
        CsvCells.Download("postings.csv", (w, ct) => PostingsCsv.WriteAsync(w, ledger, payers, organisationId, ct), http.RequestAborted);
}

/// <summary>The trial balance: the ledger total (zero when every entry balanced) and each account's balance beside its postings.</summary>
internal sealed record TrialBalanceView(Usd Total, bool Consistent, IEnumerable<TrialBalanceAccount> Accounts);

internal sealed record TrialBalanceAccount(string Account, Usd Balance, Usd Posted);
