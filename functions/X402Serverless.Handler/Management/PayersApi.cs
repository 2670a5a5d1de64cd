using Microsoft.AspNetCore.Http.HttpResults;
using X402Serverless.Core.Access;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Links;
using X402Serverless.Core.Payers;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Money;
using X402Serverless.Handler.Payers;
using X402Serverless.Handler.Problems;
using X402Serverless.Handler.Requests;

namespace X402Serverless.Handler.Management;

/// <summary>
/// /api/payers: an organisation's members (payers), their allowances, caps and credit limits;
/// /api/organisation/budget and /balances: the organisation's monthly budget, pool and earnings.
/// </summary>
internal static class PayersApi
{
    public static void MapPayersApi(this RouteGroupBuilder api)
    {
        api.MapPost("/payers", CreateAsync);
        api.MapGet("/payers", ListAsync);
        api.MapGet("/payers/{id}", GetAsync);
        api.MapPatch("/payers/{id}", UpdateAsync);
        api.MapMemberKeys();
        api.MapPut("/organisation/budget", SetBudgetAsync);
        api.MapGet("/organisation/balances", BalancesAsync);
    }

    private static async Task<Results<Created<IssuedPayer>, ProblemHttpResult>> CreateAsync(HttpContext http, PayerEditor editor)
    {
        var (fields, errors) = await ReadAsync(http, creating: true);
        if (errors.Count > 0)
        {
            return Invalid(errors);
        }
        var issued = await editor.CreateAsync(CallerContext.Of(http).Organisation.Id, fields, http.RequestAborted);
        return TypedResults.Created($"/api/payers/{issued.Payer.Id}", issued);
    }

    private static async Task<Ok<ItemList<PayerView>>> ListAsync(HttpContext http, IPayerStore payers, PayerAccounts accounts)
    {
        var list = await payers.ListAsync(CallerContext.Of(http).Organisation.Id, http.RequestAborted);
        var views = new List<PayerView>();
        foreach (var p in list)
        {
            views.Add(await accounts.ViewAsync(p, http.RequestAborted));
        }
        return TypedResults.Ok(new ItemList<PayerView>(views));
    }

    private static async Task<Results<Ok<PayerView>, ProblemHttpResult>> GetAsync(string id, HttpContext http, PayerEditor editor)
    {
        var payer = await editor.FindOwnAsync(CallerContext.Of(http).Organisation.Id, id, http.RequestAborted);
        return payer is null ? Problem.NotFound("Payer") : TypedResults.Ok(await editor.Accounts.ViewAsync(payer, http.RequestAborted));
    }

    private static async Task<Results<Ok<PayerView>, ProblemHttpResult>> UpdateAsync(string id, HttpContext http, PayerEditor editor)
    {
        var payer = await editor.FindOwnAsync(CallerContext.Of(http).Organisation.Id, id, http.RequestAborted);
        if (payer is null)
        {
            return Problem.NotFound("Payer");
        }
        var (fields, errors) = await ReadAsync(http, creating: false);
        if (errors.Count > 0)
        {
            return Invalid(errors);
        }
        return TypedResults.Ok(await editor.UpdateAsync(payer, fields, http.RequestAborted));
    }

    private static async Task<Results<Ok<BudgetView>, ProblemHttpResult>> SetBudgetAsync(HttpContext http, IPayerStore payers)
    {
        var (request, errors) = await JsonContract.ReadAsync(http.Request, ApiJson.Default.BudgetRequest, http.RequestAborted);
        if (request is null)
        {
            return Problem.Invalid("The budget is not valid.", errors);
        }
        var (budget, invalid) = PayerEditor.CheckBudget(request.MonthlyBudget);
        if (invalid is not null)
        {
            return Problem.Typed(StatusCodes.Status400BadRequest, invalid.Code, invalid.Message);
        }
        await payers.SetMonthlyBudgetAsync(CallerContext.Of(http).Organisation.Id, budget, http.RequestAborted);
        return TypedResults.Ok(new BudgetView(budget));
    }

    private static async Task<Ok<BalancesView>> BalancesAsync(HttpContext http, ILedger ledger, IPayerStore payers)
    {
        var org = CallerContext.Of(http).Organisation.Id;
        var budget = await payers.MonthlyBudgetAsync(org, http.RequestAborted);
        return TypedResults.Ok(new BalancesView(
            await ledger.BalanceAsync(Accounts.Pool(org), http.RequestAborted),
            await ledger.BalanceAsync(Accounts.Earnings(org), http.RequestAborted),
            budget));
    }

    private static async Task<(PayerFields Fields, List<ValidationError> Errors)> ReadAsync(HttpContext http, bool creating)
    {
        var (request, errors) = await JsonContract.ReadAsync(http.Request, ApiJson.Default.PayerRequest, http.RequestAborted);
        if (request is null)
        {
            return (new PayerFields(null, null, null, false, null), errors);
        }
        return (PayerEditor.Check(request, creating, errors), errors);
    }

    private static ProblemHttpResult Invalid(List<ValidationError> errors) => Problem.Invalid("The payer is not valid.", errors);
}

/// <summary>A new payer and its first key, shown once.</summary>
internal sealed record IssuedPayer(PayerView Payer, string Key);

/// <summary>The organisation's monthly budget (USD), or null for none.</summary>
internal sealed record BudgetView(Usd? MonthlyBudget);

/// <summary>The organisation's allowance pool and earnings, with its monthly budget.</summary>
internal sealed record BalancesView(Usd Pool, Usd Earnings, Usd? MonthlyBudget);
