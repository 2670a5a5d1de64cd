using X402Serverless.Core.Charges;

namespace X402Serverless.Handler.Idempotency;

/// <summary>A charge passed through as it is, noting whether its capture took the money (so the answer is the one to keep).</summary>
internal sealed class RecordingCharge(ICharge inner) : ICharge
{
    public bool Captured { get; private set; }

    /// <summary>The charge passed through.</summary>
    public ICharge Inner => inner;

    public bool CapturesCompleteAnswersOnly => inner.CapturesCompleteAnswersOnly;

    public bool AlreadyPaid => inner.AlreadyPaid;

    public async Task<ChargeCapture> CaptureAsync(CancellationToken cancellationToken)
    {
        var capture = await inner.CaptureAsync(cancellationToken);
        Captured = capture.Kind == CaptureKind.Captured;
        return capture;
    }

    public Task ReleaseAsync(CancellationToken cancellationToken) => inner.ReleaseAsync(cancellationToken);
}
