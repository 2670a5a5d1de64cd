namespace X402Serverless.Core.Protocol;

public sealed record RequirementMatch(PaymentRequirement? Requirement, string? Reason, string? Message);
