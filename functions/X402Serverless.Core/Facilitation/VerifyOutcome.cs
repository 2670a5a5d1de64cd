namespace X402Serverless.Core.Facilitation;

/// <summary>A facilitator's /verify answer. <see cref="Reached"/> false: it could not be asked.</summary>
public sealed record VerifyOutcome(bool Reached, bool IsValid, string? InvalidReason, string? InvalidMessage);
