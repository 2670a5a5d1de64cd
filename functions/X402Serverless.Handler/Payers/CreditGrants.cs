using System.Security.Cryptography;
using System.Text;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Links;
using X402Serverless.Core.Money;
using X402Serverless.Core.Payers;
using X402Serverless.Core.Ports;

namespace X402Serverless.Handler.Payers;

/// <summary>
/// An organisation grants one of its payers credits, paid from its own earnings: one balanced ledger entry (earnings
/// down, the payer's credits up), so no money is made from nothing; the earnings account's floor of zero refuses a
/// grant it does not cover, in the same write. The entry's key comes from the organisation, the payer and the
/// caller's idempotency key, so a retried grant is posted once. Shared by the API and the console.
/// </summary>
internal sealed class CreditGrants(ILedger ledger)
{
    public const int MaxMemoLength = 200;

    /// <summary>Checks a grant's amount and memo; the errors, none when it may be posted.</summary>
    public static List<ValidationError> Check(UsdInput? amount, string? memo)
    {
        var errors = new List<ValidationError>();
        if (amount is not { IsPositive: true })
        {
            errors.Add(new("amount", "invalid_amount", "amount must be a positive USD amount, such as \"5.00\"."));
        }
        if (memo is { Length: > MaxMemoLength } || memo?.Any(char.IsControl) == true)
        {
            errors.Add(new("memo", "invalid_memo", $"memo must be at most {MaxMemoLength} characters, without control characters."));
        }
        return errors;
    }

    public async Task<CreditGrantView> GrantAsync(string organisationId, Payer payer, Usd amount, string? memo, string idempotencyKey,
        CancellationToken cancellationToken)
    {
        // Hashed: the caller's key is bounded but arbitrary, the entry key must stay short and carry nothing of it.
        var key = $"grant:{organisationId}:{payer.Id}:{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(idempotencyKey)))[..32]}";
        var entry = LedgerEntry.Transfer(key, "grant", Accounts.Earnings(organisationId), Accounts.Credits(payer.Id), amount, string.IsNullOrWhiteSpace(memo) ? null : memo.Trim());
        var result = await ledger.PostAsync(entry, [], cancellationToken);
        var outcome = result switch
        {
            PostResult.Posted => CreditGrantOutcome.Granted,
            // The key names one grant: a retry replays it, another amount under it is the caller's mistake, not a second grant.
            PostResult.Duplicate => await ledger.EntryLegsAsync(key, cancellationToken) is { } legs
                && legs.Any(l => l.Account == Accounts.Credits(payer.Id) && l.Amount != amount)
                    ? CreditGrantOutcome.KeyConflict
                    : CreditGrantOutcome.Replayed,
            _ => CreditGrantOutcome.NotCovered,
        };
        return new CreditGrantView(payer.Id, amount, outcome == CreditGrantOutcome.Replayed, outcome,
            await ledger.BalanceAsync(Accounts.Credits(payer.Id), cancellationToken),
            await ledger.BalanceAsync(Accounts.Earnings(organisationId), cancellationToken));
    }
}

internal enum CreditGrantOutcome
{
    Granted,
    Replayed,
    NotCovered,
    KeyConflict,
}

/// <summary>A grant's answer: the payer's credits and the organisation's earnings after it.</summary>
internal sealed record CreditGrantView(
    string PayerId,
    Usd Amount,
    bool Replayed,
    [property: System.Text.Json.Serialization.JsonIgnore] CreditGrantOutcome Outcome,
    Usd Credits,
    Usd Earnings);
