using System.Text.Json;
using X402Serverless.Core.Inbox;
using X402Serverless.Core.Ports;

namespace X402Serverless.Handler.Functions;

/// <summary>
/// POST /InboxDelivery: the Service Bus-triggered inbox delivery function in Azure. The message is {"receipt":"msg_…"}.
/// One attempt is made when the message is due, through the same claim as the in-process worker (a duplicate or a
/// redelivery is harmless). Every outcome completes the queue message (200): a retry's time is kept in the store, and
/// the Maintenance timer hands the message to the queue again once it is due, so no redelivery storm waits on a backoff.
/// </summary>
internal static class InboxDeliveryFunction
{
    public const string Name = "InboxDelivery";
    public const string Binding = "job";

    public static void Map(IEndpointRouteBuilder app) => app.MapPost($"/{Name}", HandleAsync);

    private static async Task<IResult> HandleAsync(HttpContext http, IInboxMessageStore messages, Inbox.InboxDelivery delivery, TimeProvider time)
    {
        var job = await InvocationRequest.ReadBindingAsync(http.Request, Binding, http.RequestAborted);
        if (job is not { ValueKind: JsonValueKind.Object } m || !m.TryGetProperty("receipt", out var idEl) || idEl.ValueKind != JsonValueKind.String)
        {
            // A malformed message will never succeed: complete it with a log line rather than retry it forever.
            return Reply("Ignored an inbox delivery message without a receipt.");
        }
        var id = idEl.GetString()!;
        var message = await messages.GetAsync(id, http.RequestAborted);
        if (message is null || message.Status is not (MessageStatuses.Queued or MessageStatuses.Sending))
        {
            return Reply($"Inbox message {id} needs no delivery ({message?.Status ?? "unknown"}).");
        }
        if (message.NextAttemptAt > time.GetUtcNow())
        {
            return Reply($"Inbox message {id} is not due before {message.NextAttemptAt:O}; the maintenance pass queues it then.");
        }
        var result = await delivery.RunAsync(message, http.RequestAborted);
        return Reply($"Inbox message {id}: {result}.");
    }

    private static IResult Reply(string log) => Results.Json(new Dictionary<string, object?>
    {
        ["Outputs"] = new Dictionary<string, object?>(),
        ["Logs"] = new[] { log },
        ["ReturnValue"] = null,
    });
}
