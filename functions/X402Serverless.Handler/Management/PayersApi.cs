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
        api.MapPost("/payers/{id}/credits", GrantCreditsAsync);
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

    /// <summary>
    /// Credits for one of the organisation's payers, from its earnings: 201 granted, 200 when the Idempotency-Key was
    /// used before (posted once), 409 earnings_insufficient when the earnings do not cover it.
    /// </summary>
    private static async Task<IResult> GrantCreditsAsync(string id, HttpContext http, PayerEditor editor, CreditGrants grants)
    {
        var organisationId = CallerContext.Of(http).Organisation.Id;
        var payer = await editor.FindOwnAsync(organisationId, id, http.RequestAborted);
        if (payer is null)
        {
            return Problem.NotFound("Payer");
        }
        var (idempotencyKey, malformed) = Idempotency.KeyedCalls.Read(http.Request);
        if (malformed is not null)
        {
            return malformed;
        }
        var (request, errors) = await JsonContract.ReadAsync(http.Request, ApiJson.Default.CreditGrantRequest, http.RequestAborted);
        if (request is null)
        {
            return Problem.Invalid("Send {\"amount\": \"5.00\"}.", errors);
        }
        if (CreditGrants.Check(request.Amount, request.Memo) is { Count: > 0 } invalid)
        {
            return Problem.Invalid("The grant is not valid.", invalid);
        }
        // Without a key a retry may grant twice, as the caller chose; the console always sends one.
        var grant = await grants.GrantAsync(organisationId, payer, request.Amount!.Value.Value, request.Memo, idempotencyKey ?? Guid.NewGuid().ToString("N"), http.RequestAborted);
        return grant.Outcome switch
        {
            CreditGrantOutcome.Granted => TypedResults.Created($"/api/payers/{payer.Id}", grant),
            CreditGrantOutcome.Replayed => TypedResults.Ok(grant),
            CreditGrantOutcome.KeyConflict => Problem.Of(StatusCodes.Status409Conflict, "idempotency_key_conflict",
                "This Idempotency-Key was used for a grant of another amount; nothing more was granted.", "Send a new key for a new grant."),
            _ => Problem.Of(StatusCodes.Status409Conflict, "earnings_insufficient", "The organisation's earnings do not cover this grant; nothing was granted.",
                $"Earnings are {grant.Earnings} USD."),
        };
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
