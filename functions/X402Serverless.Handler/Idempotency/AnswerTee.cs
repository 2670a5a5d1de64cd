namespace X402Serverless.Handler.Idempotency;

/// <summary>
/// The response body stream for a call whose answer is recorded: the first <c>limit</c> bytes are held back, not sent,
/// until <see cref="ReleaseAsync"/>, so the answer is recorded (or the claim freed) before the payer can have read it
/// and retried: a retry then finds the outcome, not a claim still in flight. Past the limit the held bytes and the rest
/// are written through, nothing more is kept, and <see cref="Overflowed"/> says so (such an answer is not recorded).
/// </summary>
internal sealed class AnswerTee(Stream inner, int limit) : Stream
{
    private readonly MemoryStream _copy = new();

    public Stream Inner => inner;

    public bool Overflowed { get; private set; }

    public byte[]? Copy => Overflowed ? null : _copy.ToArray();

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush()
    {
        if (Overflowed)
        {
            inner.Flush();
        }
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Overflowed ? inner.FlushAsync(cancellationToken) : Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count)
    {
        if (Hold(buffer.AsSpan(offset, count)) is { } held)
        {
            inner.Write(held);
        }
        if (Overflowed)
        {
            inner.Write(buffer, offset, count);
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (Hold(buffer.Span) is { } held)
        {
            await inner.WriteAsync(held, cancellationToken);
        }
        if (Overflowed)
        {
            await inner.WriteAsync(buffer, cancellationToken);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Sends what was held back: after the answer is recorded, or the claim freed.</summary>
    public async Task ReleaseAsync(CancellationToken cancellationToken)
    {
        if (!Overflowed && _copy.Length > 0)
        {
            await inner.WriteAsync(_copy.GetBuffer().AsMemory(0, (int)_copy.Length), cancellationToken);
        }
    }

    /// <summary>Keeps the bytes while they fit; when they stop fitting, returns what was held so far, to be sent first.</summary>
    private byte[]? Hold(ReadOnlySpan<byte> bytes)
    {
        if (Overflowed)
        {
            return null;
        }
        if (_copy.Length + bytes.Length <= limit)
        {
            _copy.Write(bytes);
            return null;
        }
        Overflowed = true;
        var held = _copy.ToArray();
        _copy.SetLength(0);
        return held;
    }
}
