namespace X402Serverless.Core.Ports;

/// <summary>
/// A job could not be handed on. The job stays recorded either way; <see cref="IsTransient"/> says whether a later
/// attempt may succeed or an operator must fix something (a missing queue, a refused identity).
/// </summary>
public sealed class JobDispatchException(string queue, string messageId, bool isTransient, Exception inner)
    : Exception($"Job {messageId} could not be sent to queue {queue} ({(isTransient ? "transient" : "permanent")}): {inner.Message}", inner)
{
    public string Queue { get; } = queue;

    public string MessageId { get; } = messageId;

    public bool IsTransient { get; } = isTransient;
}
