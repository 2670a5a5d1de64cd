using X402Serverless.Core.Ports;

namespace X402Serverless.Core.Webhooks;

/// <summary>Applies the stored events of one source; the worker, the queue functions and maintenance drive it.</summary>
public interface IInboxProcessor
{
    /// <summary>One of <see cref="WebhookSources"/>.</summary>
    string Source { get; }

    IWebhookInbox Inbox { get; }

    /// <summary>Applies one stored event (idempotently) and marks it processed; returns the outcome recorded.</summary>
    Task<string> ProcessAsync(string id, CancellationToken cancellationToken);
}
