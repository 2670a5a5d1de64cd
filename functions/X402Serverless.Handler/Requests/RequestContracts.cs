using X402Serverless.Core.Json;
using X402Serverless.Core.Money;

namespace X402Serverless.Handler.Requests;

/// <summary>POST and PATCH /api/payers. On a change, absent fields stay; monthlyCap null removes the cap.</summary>
internal sealed record PayerRequest
{
    public string? Name { get; init; }

    public UsdInput? MonthlyAllowance { get; init; }

    public UsdInput? CreditLimit { get; init; }

    public Patch<UsdInput?> MonthlyCap { get; init; }
}

/// <summary>PUT /api/payers/budget: the organisation's monthly budget for allowances; null removes it.</summary>
internal sealed record BudgetRequest
{
    public Patch<UsdInput?> MonthlyBudget { get; init; }
}

/// <summary>POST /api/payers/{id}/credits: credits granted from the organisation's earnings.</summary>
internal sealed record CreditGrantRequest
{
    public UsdInput? Amount { get; init; }

    public string? Memo { get; init; }
}

/// <summary>A card top-up: the amount in dollars and whole cents.</summary>
internal sealed record TopUpRequest
{
    public UsdInput? Amount { get; init; }
}
