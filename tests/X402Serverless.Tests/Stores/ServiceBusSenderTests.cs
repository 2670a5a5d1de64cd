using System.Net;
using System.Text.Json;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using X402Serverless.AzureStorage.Messaging;

namespace X402Serverless.Tests.Stores;

/// <summary>
/// Service Bus cannot run here, so the sender is checked against the documented REST request: POST
/// https://{namespace}/{queue}/messages, an Entra ID bearer token for servicebus.azure.net, BrokerProperties JSON
/// carrying the MessageId (duplicate detection), the JSON body as the message.
/// </summary>
public sealed class ServiceBusSenderTests
{
    [Fact]
    public async Task A_job_is_sent_in_the_documented_request_shape()
    {
        var wire = new RecordingHandler(HttpStatusCode.Created);
        var sender = new ServiceBusSender(new Uri("https://sb-test.servicebus.windows.net"), new StaticCredential(), new HttpClientTransport(wire));

        await sender.DispatchAsync("settlement-jobs", "pay_123", """{"paymentId":"pay_123"}""", default);

        var request = Assert.Single(wire.Requests);
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("https://sb-test.servicebus.windows.net/settlement-jobs/messages", request.Uri);
        Assert.Equal("Bearer token-for-https://servicebus.azure.net/.default", request.Authorization);
        var broker = JsonDocument.Parse(request.BrokerProperties!).RootElement;
        Assert.Equal("pay_123", broker.GetProperty("MessageId").GetString());
        Assert.Equal("application/json", request.ContentType);
        Assert.Equal("""{"paymentId":"pay_123"}""", request.Body);
    }

    [Fact]
    public async Task A_refused_message_surfaces_as_an_error_after_transient_retries()
    {
        var wire = new RecordingHandler(HttpStatusCode.Unauthorized);
        var sender = new ServiceBusSender(new Uri("https://sb-test.servicebus.windows.net"), new StaticCredential(), new HttpClientTransport(wire));
        var error = await Assert.ThrowsAsync<RequestFailedException>(() => sender.DispatchAsync("q", "id", "{}", default));
        Assert.Equal(401, error.Status);
        Assert.Single(wire.Requests); // 401 is not transient: not retried
    }

    private sealed record Seen(HttpMethod Method, string Uri, string? Authorization, string? BrokerProperties, string? ContentType, string Body);

    private sealed class RecordingHandler(HttpStatusCode status) : HttpMessageHandler
    {
        public List<Seen> Requests { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Add(new Seen(request.Method, request.RequestUri!.ToString(), request.Headers.Authorization?.ToString(),
                request.Headers.TryGetValues("BrokerProperties", out var b) ? b.Single() : null,
                request.Content?.Headers.ContentType?.MediaType, request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken)));
            return new HttpResponseMessage(status);
        }
    }

    private sealed class StaticCredential : TokenCredential
    {
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            new("token-for-" + string.Join(' ', requestContext.Scopes), DateTimeOffset.UtcNow.AddHours(1));

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetToken(requestContext, cancellationToken));
    }
}
