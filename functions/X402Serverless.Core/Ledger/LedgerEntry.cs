using X402Serverless.Core.Money;

namespace X402Serverless.Core.Ledger;

/// <summary>
/// One balanced movement: legs sum to zero. <see cref="Key"/> makes it idempotent (a Stripe event, a payment id,
/// a reset period): posting the same key twice records it once.
/// </summary>
public sealed record LedgerEntry(string Key, string Kind, IReadOnlyList<Leg> Legs, string? Memo = null)
{
    public bool IsBalanced => Legs.Count >= 2 && Legs.Sum(l => l.Amount.Micros) == 0 && Legs.All(l => l.Amount != Usd.Zero);

    /// <summary>A two-leg transfer of <paramref name="amount"/>.</summary>
    public static LedgerEntry Transfer(string key, string kind, string from, string to, Usd amount, string? memo = null) =>
        new(key, kind, [new Leg(from, -amount), new Leg(to, amount)], memo);
}

/// <summary>One side of an entry: positive credits the account, negative debits it.</summary>
public sealed record Leg(string Account, Usd Amount);
