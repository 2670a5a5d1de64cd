namespace X402Serverless.Core.Payers;

/// <summary>A payer's API key as stored: its SHA-256 hash (kept apart) and a short display prefix, never the key.</summary>
public sealed record PayerKey(string Id, string PayerId, string Prefix, DateTimeOffset CreatedAt);
