namespace X402Serverless.Handler.Forwarding;

/// <summary>Raised inside the connect step when every address of the upstream host is refused by policy.</summary>
internal sealed class UpstreamAddressRefusedException(string message) : Exception(message);
