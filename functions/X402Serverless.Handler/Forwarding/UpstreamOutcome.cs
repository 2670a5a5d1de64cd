namespace X402Serverless.Handler.Forwarding;

internal enum UpstreamFailure
{
    None,
    Timeout,
    Unreachable,
    AddressRefused,
}

/// <summary>
/// The upstream's response (headers read, body not yet), or why there is none. The upstream timeout keeps running
/// for the body: read it with <see cref="BodyCancellation"/>.
/// </summary>
internal sealed record UpstreamOutcome(HttpResponseMessage? Response, UpstreamFailure Failure, string? Detail) : IDisposable
{
    internal CancellationTokenSource? Timeout { get; init; }

    public CancellationToken BodyCancellation => Timeout?.Token ?? CancellationToken.None;

    public void Dispose()
    {
        Response?.Dispose();
        Timeout?.Dispose();
    }
}
