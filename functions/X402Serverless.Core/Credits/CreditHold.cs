using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;

namespace X402Serverless.Core.Credits;

/// <summary>Money set aside for one call: captured if the upstream's answer is charged, released otherwise.</summary>
public sealed record CreditHold(string Id, string Source, Usd Amount, IReadOnlyList<CapCheck> Caps)
{
    public bool FromAllowance => Source.StartsWith("allowance:", StringComparison.Ordinal);
}
