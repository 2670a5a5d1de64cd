using X402Serverless.Core.Access;
using X402Serverless.Core.Json;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Links;
using X402Serverless.Core.Money;
using X402Serverless.Core.Payers;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Management;
using X402Serverless.Handler.Requests;

namespace X402Serverless.Handler.Payers;

/// <summary>
/// Creating and changing an organisation's payers, their keys and its monthly budget: the one path /api/payers and the
/// console share, so both check the same fields and keep the ledger's credit floor in step with the credit limit.
/// </summary>
internal sealed class PayerEditor(IPayerStore payers, ILedger ledger, PayerAccounts accounts, TimeProvider time)
{
    public IPayerStore Store => payers;

    public PayerAccounts Accounts => accounts;

    /// <summary>The request's fields, checked; every problem goes to <paramref name="errors"/> with the API's field name.</summary>
    public static PayerFields Check(PayerRequest request, bool creating, List<ValidationError> errors)
    {
        // A change may leave the name out, but never blank it.
        if (((creating || request.Name is not null) && string.IsNullOrWhiteSpace(request.Name)) || request.Name is { Length: > 200 })
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
        return new PayerFields(request.Name?.Trim(), allowance, cap, request.MonthlyCap.IsCleared, limit);
    }

    /// <summary>The organisation's payer; another organisation's reads exactly like a missing one.</summary>
    public async Task<Payer?> FindOwnAsync(string organisationId, string id, CancellationToken cancellationToken) =>
        await payers.GetAsync(id, cancellationToken) is { } payer && payer.OrganisationId == organisationId ? payer : null;

    /// <summary>A new payer with its first key (shown once).</summary>
    public async Task<IssuedPayer> CreateAsync(string organisationId, PayerFields fields, CancellationToken cancellationToken)
    {
        var payer = new Payer
        {
            Id = ManagementKeys.NewId("payer"),
            OrganisationId = organisationId,
            Name = fields.Name!,
            MonthlyAllowance = fields.Allowance ?? Usd.Zero,
            MonthlyCap = fields.Cap,
            CreditLimit = fields.CreditLimit ?? Usd.Zero,
            CreatedAt = time.GetUtcNow(),
        };
        var issued = PayerKeys.Issue(payer.Id, payer.CreatedAt);
        await payers.CreateAsync(payer, issued.Record, issued.Hash, cancellationToken);
        await ledger.SetFloorAsync(Core.Ledger.Accounts.Credits(payer.Id), -payer.CreditLimit, cancellationToken);
        return new IssuedPayer(await accounts.ViewAsync(payer, cancellationToken), issued.Key);
    }

    /// <summary>Applies the fields given; the others stay.</summary>
    public async Task<PayerView> UpdateAsync(Payer payer, PayerFields fields, CancellationToken cancellationToken)
    {
        var updated = payer with
        {
            Name = fields.Name ?? payer.Name,
            MonthlyAllowance = fields.Allowance ?? payer.MonthlyAllowance,
            MonthlyCap = fields.ClearCap ? null : fields.Cap ?? payer.MonthlyCap,
            CreditLimit = fields.CreditLimit ?? payer.CreditLimit,
        };
        await payers.UpdateAsync(updated, cancellationToken);
        await ledger.SetFloorAsync(Core.Ledger.Accounts.Credits(payer.Id), -updated.CreditLimit, cancellationToken);
        return await accounts.ViewAsync(updated, cancellationToken);
    }

    /// <summary>The budget asked for (null: none), or the problem with it.</summary>
    public static (Usd? Budget, ValidationError? Error) CheckBudget(Patch<UsdInput?> budget) =>
        !budget.IsSent ? (null, new("monthlyBudget", "invalid_budget", "Send {\"monthlyBudget\": \"500.00\"} (or null for none)."))
        : budget.Value is { IsPositive: false } ? (null, new("monthlyBudget", "invalid_budget", "monthlyBudget is a positive USD decimal string."))
        : (budget.Value?.Value, null);

    public Task SetBudgetAsync(string organisationId, Usd? budget, CancellationToken cancellationToken) =>
        payers.SetMonthlyBudgetAsync(organisationId, budget, cancellationToken);

    /// <summary>Another key for the payer: its record and the key, shown once.</summary>
    public async Task<(PayerKey Record, string Key)> IssueKeyAsync(string payerId, CancellationToken cancellationToken)
    {
        var (record, hash, key) = PayerKeys.Issue(payerId, time.GetUtcNow());
        await payers.AddKeyAsync(record, hash, cancellationToken);
        return (record, key);
    }
}

/// <summary>A payer's fields as checked: null leaves one as it is; <see cref="ClearCap"/> removes the monthly cap.</summary>
internal sealed record PayerFields(string? Name, Usd? Allowance, Usd? Cap, bool ClearCap, Usd? CreditLimit);
