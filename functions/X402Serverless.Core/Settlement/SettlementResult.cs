using X402Serverless.Core.Facilitation;

namespace X402Serverless.Core.Settlement;

public sealed record SettlementResult(SettlementOutcomeKind Kind, string? Transaction, string? Reason, string? Message, SettleOutcome? Outcome);
