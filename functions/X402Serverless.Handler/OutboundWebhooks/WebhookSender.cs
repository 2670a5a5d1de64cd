using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Options;
using X402Serverless.Core.OutboundWebhooks;
using X402Serverless.Handler.Hosting;

namespace X402Serverless.Handler.OutboundWebhooks;

/// <summary>
/// One POST of a delivery through the guarded upstream client (no redirects, no proxy, every connection checked against
/// the SSRF policy): signed with each active secret, bounded in time, and only a short snippet of the answer kept.
/// </summary>
internal sealed class WebhookSender(HttpMessageInvoker client, TimeProvider time, IOptions<OutboundWebhookOptions> options)
{
    public const string SignatureHeader = "X402-Signature";
    public const string EventIdHeader = "X402-Event-Id";
    public const string EventTypeHeader = "X402-Event-Type";
    public const string DeliveryIdHeader = "X402-Delivery-Id";
    private const int SnippetChars = 512;

    public Task<WebhookAttempt> SendAsync(WebhookDelivery delivery, string url, IReadOnlyList<string> secrets, CancellationToken cancellationToken) =>
        SendAsync(new SignedPost(url, delivery.Payload, delivery.EventId, delivery.EventType, delivery.Id), secrets, cancellationToken);

    /// <summary>Posts any signed body (an event's delivery, an inbox's message) with the same headers, signature and bounds.</summary>
    public async Task<WebhookAttempt> SendAsync(SignedPost post, IReadOnlyList<string> secrets, CancellationToken cancellationToken)
    {
        var started = time.GetUtcNow();
        var watch = Stopwatch.StartNew();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(options.Value.TimeoutSeconds));
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, post.Url)
            {
                Content = new StringContent(post.Payload, Encoding.UTF8, "application/json"),
            };
            request.Headers.UserAgent.ParseAdd("X402Serverless-Webhooks/1.0");
            request.Headers.TryAddWithoutValidation(SignatureHeader, WebhookSigner.Header(post.Payload, started.ToUnixTimeSeconds(), secrets));
            request.Headers.TryAddWithoutValidation(EventIdHeader, post.EventId);
            request.Headers.TryAddWithoutValidation(EventTypeHeader, post.EventType);
            request.Headers.TryAddWithoutValidation(DeliveryIdHeader, post.DeliveryId);
            using var response = await client.SendAsync(request, timeout.Token);
            var snippet = await SnippetAsync(response, timeout.Token);
            return new(started, (int)response.StatusCode, watch.ElapsedMilliseconds, snippet, null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new(started, null, watch.ElapsedMilliseconds, null, $"No answer within {options.Value.TimeoutSeconds:0.#} s.");
        }
        catch (Exception e) when (e is HttpRequestException or Forwarding.UpstreamAddressRefusedException or IOException)
        {
            // The message names the failure (refused address, DNS, connection) without anything secret in it.
            return new(started, null, watch.ElapsedMilliseconds, null, Bounded(Innermost(e).Message));
        }
    }

    public static bool Succeeded(WebhookAttempt attempt) => attempt.StatusCode is >= 200 and < 300;

    private static async Task<string?> SnippetAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        // Read at most a few KB whatever the receiver sends: a huge or endless answer costs nothing here.
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[SnippetChars * 4];
        var read = 0;
        int n;
        while (read < buffer.Length && (n = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken)) > 0)
        {
            read += n;
        }
        return read == 0 ? null : Bounded(Encoding.UTF8.GetString(buffer, 0, read));
    }

    private static string Bounded(string text) => text.Length <= SnippetChars ? text : text[..SnippetChars] + "…";

    private static Exception Innermost(Exception e) => e is HttpRequestException { InnerException: { } inner } ? Innermost(inner) : e;
}

/// <summary>One signed POST: where, the exact body (signed as sent), and the ids a receiver deduplicates on.</summary>
internal sealed record SignedPost(string Url, string Payload, string EventId, string EventType, string DeliveryId);
