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

    private static async Task<Results<Created<IssuedPayer>, ProblemHttpResult>> CreateAsync(HttpContext http, IPayerStore payers, ILedger ledger, PayerAccounts accounts, TimeProvider time)
    {
        var (fields, errors) = await ReadAsync(http, creating: true);
        if (errors.Count > 0)
        {
            return Invalid(errors);
        }
        var payer = new Payer
        {
            Id = ManagementKeys.NewId("payer"),
            OrganisationId = CallerContext.Of(http).Organisation.Id,
            Name = fields.Name!,
            MonthlyAllowance = fields.Allowance ?? Usd.Zero,
            MonthlyCap = fields.Cap,
            CreditLimit = fields.CreditLimit ?? Usd.Zero,
            CreatedAt = time.GetUtcNow(),
        };
        var issued = PayerKeys.Issue(payer.Id, payer.CreatedAt);
        await payers.CreateAsync(payer, issued.Record, issued.Hash, http.RequestAborted);
        await ledger.SetFloorAsync(Accounts.Credits(payer.Id), -payer.CreditLimit, http.RequestAborted);
        var view = await accounts.ViewAsync(payer, http.RequestAborted);
        return TypedResults.Created($"/api/payers/{payer.Id}", new IssuedPayer(view, issued.Key));
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

    private static async Task<Results<Ok<PayerView>, ProblemHttpResult>> GetAsync(string id, HttpContext http, IPayerStore payers, PayerAccounts accounts)
    {
        var payer = await payers.GetAsync(id, http.RequestAborted);
        return payer is null || payer.OrganisationId != CallerContext.Of(http).Organisation.Id
            ? Problem.NotFound("Payer")
            : TypedResults.Ok(await accounts.ViewAsync(payer, http.RequestAborted));
    }

    private static async Task<Results<Ok<PayerView>, ProblemHttpResult>> UpdateAsync(string id, HttpContext http, IPayerStore payers, ILedger ledger, PayerAccounts accounts)
    {
        var payer = await payers.GetAsync(id, http.RequestAborted);
        if (payer is null || payer.OrganisationId != CallerContext.Of(http).Organisation.Id)
        {
            return Problem.NotFound("Payer");
        }
        var (fields, errors) = await ReadAsync(http, creating: false);
        if (errors.Count > 0)
        {
            return Invalid(errors);
        }
        var updated = payer with
        {
            Name = fields.Name ?? payer.Name,
            MonthlyAllowance = fields.Allowance ?? payer.MonthlyAllowance,
            MonthlyCap = fields.ClearCap ? null : fields.Cap ?? payer.MonthlyCap,
            CreditLimit = fields.CreditLimit ?? payer.CreditLimit,
        };
        await payers.UpdateAsync(updated, http.RequestAborted);
        await ledger.SetFloorAsync(Accounts.Credits(payer.Id), -updated.CreditLimit, http.RequestAborted);
        return TypedResults.Ok(await accounts.ViewAsync(updated, http.RequestAborted));
    }

    private static async Task<Results<Ok<BudgetView>, ProblemHttpResult>> SetBudgetAsync(HttpContext http, IPayerStore payers)
    {
        var (request, errors) = await JsonContract.ReadAsync(http.Request, ApiJson.Default.BudgetRequest, http.RequestAborted);
        if (request is null)
        {
            return Problem.Invalid("The budget is not valid.", errors);
        }
        if (!request.MonthlyBudget.IsSent)
        {
            return Problem.Typed(StatusCodes.Status400BadRequest, "invalid_budget", "Send {\"monthlyBudget\": \"500.00\"} (or null for none).");
        }
        if (request.MonthlyBudget.Value is { IsPositive: false })
        {
            return Problem.Typed(StatusCodes.Status400BadRequest, "invalid_budget", "monthlyBudget is a positive USD decimal string.");
        }
        var budget = request.MonthlyBudget.Value?.Value;
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

    private sealed record Fields(string? Name, Usd? Allowance, Usd? Cap, bool ClearCap, Usd? CreditLimit);

    private static async Task<(Fields Fields, List<ValidationError> Errors)> ReadAsync(HttpContext http, bool creating)
    {
        var (request, errors) = await JsonContract.ReadAsync(http.Request, ApiJson.Default.PayerRequest, http.RequestAborted);
        if (request is null)
        {
            return (new Fields(null, null, null, false, null), errors);
        }
        if ((creating && string.IsNullOrWhiteSpace(request.Name)) || request.Name is { Length: > 200 })
        {
            errors.Add(new("name", "invalid_name", "name is required (1–200 characters)."));
        }
        Usd? Amount(string field, UsdInput? input, bool allowZero)
        {
            if (input is not { } given)
            {
                return null;
            }
            if (!given.IsValid || given.Value.IsNegative || (!allowZero && !given.Value.IsPositive))
            {
                errors.Add(new(field, "invalid_amount", $"{field} is a USD decimal string such as \"25.00\" (at most 6 decimals)."));
                return null;
            }
            return given.Value;
        }
        var allowance = Amount("monthlyAllowance", request.MonthlyAllowance, allowZero: true);
        var cap = Amount("monthlyCap", request.MonthlyCap.Value, allowZero: false);
        var limit = Amount("creditLimit", request.CreditLimit, allowZero: true);
        return (new Fields(request.Name?.Trim(), allowance, cap, request.MonthlyCap.IsCleared, limit), errors);
    }

    private static ProblemHttpResult Invalid(List<ValidationError> errors) => Problem.Invalid("The payer is not valid.", errors);
}

/// <summary>A new payer and its first key, shown once.</summary>
internal sealed record IssuedPayer(PayerView Payer, string Key);

/// <summary>The organisation's monthly budget (USD), or null for none.</summary>
internal sealed record BudgetView(Usd? MonthlyBudget);

/// <summary>The organisation's allowance pool and earnings, with its monthly budget.</summary>
internal sealed record BalancesView(Usd Pool, Usd Earnings, Usd? MonthlyBudget);
