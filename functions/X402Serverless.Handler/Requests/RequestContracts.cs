using System.Text.Json.Serialization;
using X402Serverless.Core.Money;

namespace X402Serverless.Handler.Requests;

/// <summary>POST and PATCH /api/payers. On a change, absent fields stay; monthlyCap null removes the cap.</summary>
internal sealed record PayerRequest
{
    private UsdInput? _monthlyCap;

    public string? Name { get; init; }

    public UsdInput? MonthlyAllowance { get; init; }

    public UsdInput? CreditLimit { get; init; }

    public UsdInput? MonthlyCap
    {
        get => _monthlyCap;
        init
        {
            _monthlyCap = value;
            MonthlyCapSent = true;
        }
    }

    [JsonIgnore]
    public bool MonthlyCapSent { get; private init; }
}

/// <summary>PUT /api/payers/budget: the organisation's monthly budget for allowances; null removes it.</summary>
internal sealed record BudgetRequest
{
    private UsdInput? _monthlyBudget;

    public UsdInput? MonthlyBudget
    {
        get => _monthlyBudget;
        init
        {
            _monthlyBudget = value;
            MonthlyBudgetSent = true;
        }
    }

    [JsonIgnore]
    public bool MonthlyBudgetSent { get; private init; }
}

/// <summary>A card top-up: the amount in dollars and whole cents.</summary>
internal sealed record TopUpRequest
{
    public UsdInput? Amount { get; init; }
}
