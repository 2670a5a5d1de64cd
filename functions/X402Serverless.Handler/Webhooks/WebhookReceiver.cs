using System.Text;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Webhooks;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Webhooks;

/// <summary>
/// What every webhook receiver does first: read the exact bytes (bounded) and verify their signature. Stored and
/// acknowledged after this, processed from the queue, so the sender never waits on the ledger.
/// </summary>
internal static class WebhookReceiver
{
    private const int MaxBody = 512 * 1024;

    public static async Task<(byte[]? Payload, IResult? Problem)> ReadVerifiedAsync(
        HttpContext http, string signatureHeader, string secret, TimeProvider time, int toleranceSeconds)
    {
        using var buffer = new MemoryStream();
        await http.Request.Body.CopyToAsync(buffer, http.RequestAborted);
        if (buffer.Length > MaxBody)
        {
            return (null, Problem.Of(StatusCodes.Status413PayloadTooLarge, "payload_too_large", "The webhook body is too large."));
        }
        var payload = buffer.ToArray();
        var verdict = WebhookSignature.Verify(payload, http.Request.Headers[signatureHeader].ToString(), secret,
            time.GetUtcNow(), TimeSpan.FromSeconds(toleranceSeconds));
        return verdict == WebhookSignatureResult.Valid
            ? (payload, null)
            : (null, Problem.Of(StatusCodes.Status400BadRequest, verdict == WebhookSignatureResult.Stale ? "signature_stale" : "signature_invalid",
                $"The {signatureHeader} header does not verify."));
    }

    /// <summary>Stores a verified event once by id and queues it for processing; false when it was a redelivery.</summary>
    public static async Task<bool> StoreOnceAsync(
        IWebhookInbox inbox, Settlement.JobQueues queues, string source, string id, string type, byte[] payload, TimeProvider time, CancellationToken cancellationToken)
    {
        var isNew = await inbox.TryAddAsync(id, type, Encoding.UTF8.GetString(payload), time.GetUtcNow(), cancellationToken);
        if (isNew)
        {
            await queues.InboxEventAsync(source, id);
        }
        return isNew;
    }
}
