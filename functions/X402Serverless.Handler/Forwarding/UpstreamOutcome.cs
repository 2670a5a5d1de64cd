namespace X402Serverless.Handler.Forwarding;

internal enum UpstreamFailure
{
    None,
    Timeout,
    Unreachable,
    AddressRefused,
}

/// <summary>The upstream's response (headers read, body not yet), or why there is none.</summary>
internal sealed record UpstreamOutcome(HttpResponseMessage? Response, UpstreamFailure Failure, string? Detail) : IDisposable
{
    public void Dispose() => Response?.Dispose();
}
