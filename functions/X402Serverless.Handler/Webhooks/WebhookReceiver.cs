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

    /// <summary>Reads the exact bytes received, or a 413 problem past the bound.</summary>
    public static async Task<(byte[]? Payload, IResult? Problem)> ReadAsync(HttpContext http)
    {
        using var buffer = new MemoryStream();
        await http.Request.Body.CopyToAsync(buffer, http.RequestAborted);
        return buffer.Length > MaxBody
            ? (null, Problem.Of(StatusCodes.Status413PayloadTooLarge, "payload_too_large", "The webhook body is too large."))
            : (buffer.ToArray(), null);
    }

    /// <summary>Reads and verifies with the project's own "t=…,v1=…" check (the KYC callback's).</summary>
    public static async Task<(byte[]? Payload, IResult? Problem)> ReadVerifiedAsync(
        HttpContext http, string signatureHeader, string secret, TimeProvider time, int toleranceSeconds)
    {
        var (payload, problem) = await ReadAsync(http);
        if (payload is null)
        {
            return (null, problem);
        }
        var verdict = WebhookSignature.Verify(payload, http.Request.Headers[signatureHeader].ToString(), secret,
            time.GetUtcNow(), TimeSpan.FromSeconds(toleranceSeconds));
        return verdict == WebhookSignatureResult.Valid ? (payload, null) : (null, SignatureProblem(signatureHeader, verdict));
    }

    /// <summary>The one answer to a signature that does not verify: 400, stale told apart from invalid.</summary>
    public static IResult SignatureProblem(string signatureHeader, WebhookSignatureResult verdict) =>
        Problem.Of(StatusCodes.Status400BadRequest, verdict == WebhookSignatureResult.Stale ? "signature_stale" : "signature_invalid",
            $"The {signatureHeader} header does not verify.");

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
