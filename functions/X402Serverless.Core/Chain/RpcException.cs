namespace X402Serverless.Core.Chain;

/// <summary>The node answered with a JSON-RPC error (a revert, a nonce problem, insufficient funds...).</summary>
public sealed class RpcException(int code, string message, string? data) : Exception(message)
{
    public int Code { get; } = code;

    /// <summary>Revert data (0x hex) when the node returns it.</summary>
    public string? RevertData { get; } = data;
}
