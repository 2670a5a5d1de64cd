using X402Serverless.Core.Evm;

namespace X402Serverless.Core.Signup;

/// <summary>
/// A Sign-In with Ethereum message (EIP-4361), as parsed by <see cref="SiweParser"/>. Only what the text says: whether
/// it is for this gateway, current and signed by <see cref="Address"/> is decided by the caller.
/// </summary>
public sealed record SiweMessage
{
    public string? Scheme { get; init; }

    /// <summary>The RFC 3986 authority the message is for (host and optional port).</summary>
    public required string Domain { get; init; }

    public required EvmAddress Address { get; init; }

    public string? Statement { get; init; }

    public required Uri Uri { get; init; }

    public required string Version { get; init; }

    public required long ChainId { get; init; }

    public required string Nonce { get; init; }

    public required DateTimeOffset IssuedAt { get; init; }

    public DateTimeOffset? ExpirationTime { get; init; }

    public DateTimeOffset? NotBefore { get; init; }

    public string? RequestId { get; init; }

    public IReadOnlyList<Uri> Resources { get; init; } = [];
}
