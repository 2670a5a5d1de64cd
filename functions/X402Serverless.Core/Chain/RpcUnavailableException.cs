namespace X402Serverless.Core.Chain;

/// <summary>The node could not be reached or answered nonsense: nothing is known about the request's effect.</summary>
public sealed class RpcUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
