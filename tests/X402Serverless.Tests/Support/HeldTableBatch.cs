using Azure.Core;
using Azure.Core.Pipeline;

namespace X402Serverless.Tests.Support;

/// <summary>
/// Holds the <paramref name="nth"/> entity group transaction a Table client sends (1 for the first) on the wire until
/// released: a write of another process's caught half-way.
/// </summary>
internal sealed class HeldTableBatch(int nth) : HttpPipelinePolicy
{
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _batches;

    /// <summary>Completes once the held transaction is on the wire.</summary>
    public Task Reached => _reached.Task;

    public void Release() => _released.TrySetResult();

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        throw new NotSupportedException("The stores send asynchronously.");

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        if (message.Request.Uri.Path.EndsWith("$batch", StringComparison.Ordinal) && Interlocked.Increment(ref _batches) == nth)
        {
            _reached.TrySetResult();
            await _released.Task.WaitAsync(TimeSpan.FromSeconds(60));
        }
        await ProcessNextAsync(message, pipeline);
    }
}
