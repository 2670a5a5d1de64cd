using X402Serverless.Core.Money;

namespace X402Serverless.Core.Ledger;

/// <summary>One leg as recorded.</summary>
public sealed record Posting(long Sequence, string EntryKey, string Kind, string Account, Usd Amount, string? Memo, DateTimeOffset At);
