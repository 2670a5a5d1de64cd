using X402Serverless.Core.Access;
using X402Serverless.Core.Json;
using X402Serverless.Core.Money;
using X402Serverless.Core.Payers;
using X402Serverless.Handler.Requests;

namespace X402Serverless.Handler.ProviderConsole;

/// <summary>The new-key form: a role (least privilege unless chosen) and the built-in facilitator grant.</summary>
internal sealed class NewKeyForm
{
    public string? Role { get; set; } = KeyRoles.ReadOnly;

    public bool Facilitator { get; set; }
}

/// <summary>
/// A payer's form (new or edit), mapped onto the API's <see cref="PayerRequest"/> so the shared checks read it. On an
/// edit only changed fields are sent; an emptied monthly cap removes it.
/// </summary>
internal sealed class PayerForm
{
    public string? Name { get; set; }

    public string? MonthlyAllowance { get; set; }

    public string? MonthlyCap { get; set; }

    public string? CreditLimit { get; set; }

    public static PayerForm From(Payer payer) => new()
    {
        Name = payer.Name,
        MonthlyAllowance = payer.MonthlyAllowance.ToString(),
        MonthlyCap = payer.MonthlyCap?.ToString(),
        CreditLimit = payer.CreditLimit.ToString(),
    };

    public PayerRequest ToRequest() => new()
    {
        Name = Name?.Trim() ?? "",
        MonthlyAllowance = Amount(MonthlyAllowance),
        MonthlyCap = Amount(MonthlyCap) is { } cap ? new(true, cap) : default,
        CreditLimit = Amount(CreditLimit),
    };

    public PayerRequest ToChange(Payer payer) => new()
    {
        // An emptied name is sent so the check reports it as required.
        Name = NewLinkForm.Blank(Name) is { } name ? (name == payer.Name ? null : name) : "",
        MonthlyAllowance = Changed(MonthlyAllowance, payer.MonthlyAllowance),
        MonthlyCap = Amount(MonthlyCap) is { } cap
            ? (payer.MonthlyCap is { } current && cap.IsValid && cap.Value == current ? default : new(true, cap))
            : payer.MonthlyCap is null ? default : new(true, null),
        CreditLimit = Changed(CreditLimit, payer.CreditLimit),
    };

    private static UsdInput? Amount(string? text) => NewLinkForm.Blank(text) is { } value ? UsdInput.Of(value) : null;

    private static UsdInput? Changed(string? text, Usd current) =>
        Amount(text) is { } amount && !(amount.IsValid && amount.Value == current) ? amount : null;
}

/// <summary>The organisation's monthly allowance budget; empty removes it.</summary>
internal sealed class BudgetForm
{
    public string? MonthlyBudget { get; set; }

    public Patch<UsdInput?> ToPatch() => new(true, NewLinkForm.Blank(MonthlyBudget) is { } value ? UsdInput.Of(value) : null);
}

/// <summary>A card top-up of the organisation's allowance pool: the amount in dollars and whole cents.</summary>
internal sealed class TopUpForm
{
    public string? Amount { get; set; }
}
