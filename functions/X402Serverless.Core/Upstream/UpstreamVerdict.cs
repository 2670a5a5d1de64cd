namespace X402Serverless.Core.Upstream;

/// <summary>Why an upstream target is refused.</summary>
public sealed record UpstreamVerdict(string Code, string Message);
