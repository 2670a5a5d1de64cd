namespace X402Serverless.Core.Links;

/// <summary>One problem with a request: the field, a stable machine code and a sentence for people.</summary>
public sealed record ValidationError(string Field, string Code, string Message);
