using X402Serverless.Core.Money;

namespace X402Serverless.Core.Ledger;

/// <summary>
/// A spending counter checked and moved with an entry: the entry posts only if <c>used + Amount &lt;= Limit</c>.
/// Keys carry their period ("member-month:org:payer:2026-11"), so a new period starts at zero on its own.
/// </summary>
public sealed record CapCheck(string Key, Usd Amount, Usd Limit);
