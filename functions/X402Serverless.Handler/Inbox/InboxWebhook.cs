using System.Text.Json;
using System.Text.Json.Nodes;
using X402Serverless.Core.Inbox;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.OutboundWebhooks;

namespace X402Serverless.Handler.Inbox;

/// <summary>
/// Posts a message to its inbox's webhook, signed exactly as organisations' webhook events are (docs/webhooks.md):
/// the same sender (guarded client, every connection checked against the SSRF policy, no redirects, bounded time),
/// the same envelope and signature header, one v1 per active secret. The URL and secrets are read from the link at each
/// attempt, so a fixed URL or a rotated secret applies to messages still waiting. The body is built from the stored
/// message alone, so every attempt sends the same bytes under the same id (the receipt).
/// </summary>
internal sealed class InboxWebhook(ILinkStore links, WebhookSender sender, ISecretSealer sealer, TimeProvider time)
{
    public const string EventType = "inbox.message";

    public async Task<(SendOutcome Outcome, string? Error)> SendAsync(InboxMessage message, CancellationToken cancellationToken)
    {
        var link = await links.FindAsync(message.LinkId, cancellationToken);
        if (link is not { Inbox: { WebhookUrl: { } url } inbox } || link.OrganisationId != message.OrganisationId)
        {
            // The owner removed the webhook (or the inbox): nothing can ever take this target, so the message fails and is refunded.
            return (SendOutcome.Permanent, "The inbox no longer has a webhook.");
        }
        var secrets = inbox.WebhookSecrets.Where(s => s.ExpiresAt is null || s.ExpiresAt > time.GetUtcNow()).Select(s => sealer.Unseal(s.Sealed)).ToList();
        var attempt = await sender.SendAsync(new SignedPost(url, Payload(message), message.Id, EventType, message.Id), secrets, cancellationToken);
        return WebhookSender.Succeeded(attempt)
            ? (SendOutcome.Sent, null)
            : (SendOutcome.Transient, attempt.StatusCode is { } status ? $"Webhook answered HTTP {status}." : $"Webhook: {attempt.Error}");
    }

    /// <summary>The event envelope of docs/webhooks.md with the message as its object; the id is the receipt, the same on every attempt.</summary>
    public static string Payload(InboxMessage m) => new JsonObject
    {
        ["id"] = m.Id,
        ["object"] = "event",
        ["type"] = EventType,
        ["created"] = m.CreatedAt.ToUnixTimeSeconds(),
        ["organisation"] = m.OrganisationId,
        ["data"] = new JsonObject
        {
            ["object"] = new JsonObject
            {
                ["receipt"] = m.Id,
                ["linkId"] = m.LinkId,
                ["receivedAt"] = m.CreatedAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
                ["subject"] = m.Subject,
                ["body"] = m.Body,
                ["replyTo"] = m.ReplyTo,
                ["paidWith"] = m.PaidWith,
                ["amountUsd"] = m.Amount.ToString(),
                ["amountMicros"] = m.Amount.Micros.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["payer"] = m.Payer,
                // The whole files: a message is at most 64 KB (the inbox's limit), so they always fit the body.
                ["attachments"] = new JsonArray([.. (m.Attachments ?? []).Select(a => (JsonNode)new JsonObject
                {
                    ["filename"] = a.Filename,
                    ["contentType"] = a.ContentType,
                    ["size"] = Convert.FromBase64String(a.ContentBase64).Length,
                    ["contentBase64"] = a.ContentBase64,
                })]),
            },
        },
    }.ToJsonString(JsonSerializerOptions.Web);
}
