namespace X402Serverless.Core.Access;

/// <summary>An organisation owns links and keys. The operator organisation may create others.</summary>
public sealed record Organisation(string Id, string Name, bool IsOperator, DateTimeOffset CreatedAt);
