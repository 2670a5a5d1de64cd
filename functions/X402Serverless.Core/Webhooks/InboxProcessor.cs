using X402Serverless.Core.Ports;

namespace X402Serverless.Core.Webhooks;

/// <summary>
/// Applies the stored events of one sender; the worker, the queue functions and maintenance drive it. Applying must
/// be idempotent: a redelivered message or a crash before the event is marked processed runs it again.
/// </summary>
public abstract class InboxProcessor(IWebhookInbox inbox, TimeProvider time)
{
    /// <summary>One of <see cref="WebhookSources"/>.</summary>
    public abstract string Source { get; }

    public IWebhookInbox Inbox => inbox;

    /// <summary>Applies one stored event and marks it processed; returns the outcome recorded.</summary>
    public async Task<string> ProcessAsync(string id, CancellationToken cancellationToken)
    {
        var payload = await inbox.PayloadAsync(id, cancellationToken);
        if (payload is null)
        {
            return "unknown";
        }
        var outcome = await ApplyAsync(payload, cancellationToken);
        await inbox.MarkProcessedAsync(id, outcome, time.GetUtcNow(), cancellationToken);
        return outcome;
    }

    protected abstract Task<string> ApplyAsync(string payload, CancellationToken cancellationToken);
}
