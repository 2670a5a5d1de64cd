namespace X402Serverless.Core.Usage;

/// <summary>How many calls of one kind a link had on one UTC day ("2026-11-21").</summary>
public sealed record UsageCount(string OrganisationId, string LinkId, string Day, string Kind, long Count);
