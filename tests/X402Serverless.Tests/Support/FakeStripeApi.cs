using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace X402Serverless.Tests.Support;

/// <summary>
/// Stands in for api.stripe.com (which cannot be reached here): accepts POST /v1/checkout/sessions only in Stripe's
/// documented wire format (form-encoded, Bearer secret key) and records what it received. A session whose
/// client_reference_id is <see cref="RefusedReference"/> is refused with Stripe's error shape. Started with
/// <c>hostsCheckout</c>, its sessions' URLs are its own checkout page (a browser test can follow the redirect there).
/// </summary>
internal sealed class FakeStripeApi : IAsyncDisposable
{
    public const string RefusedReference = "refuse-me";

    private WebApplication? _app;

    public string Url { get; private set; } = "";

    public ConcurrentQueue<SentSession> Sessions { get; } = new();

    public static async Task<FakeStripeApi> StartAsync(bool hostsCheckout = false)
    {
        var fake = new FakeStripeApi();
        (fake._app, fake.Url) = await LoopbackApp.StartAsync(app =>
        {
            app.MapGet("/c/pay/{id}", (string id) => Results.Content($"<!doctype html><title>Fake Checkout</title><p id=\"session\">{id}</p>", "text/html"));
            app.MapPost("/v1/checkout/sessions", async (HttpContext http) =>
        {
            if (!http.Request.HasFormContentType)
            {
                return Results.Json(new { error = new { message = "Stripe takes application/x-www-form-urlencoded" } }, statusCode: 400);
            }
            var form = (await http.Request.ReadFormAsync()).ToDictionary(f => f.Key, f => f.Value.ToString());
            var headers = http.Request.Headers;
            var id = "cs_test_" + Guid.NewGuid().ToString("N");
            fake.Sessions.Enqueue(new SentSession(form, headers.Authorization.ToString(), headers["Idempotency-Key"].ToString(),
                headers["Stripe-Version"].ToString(), headers.ContentType.ToString(), id));
            if (form.GetValueOrDefault("client_reference_id") == RefusedReference)
            {
                return Results.Json(new { error = new { type = "invalid_request_error", message = "Amount must be at least $0.50 usd" } }, statusCode: 400);
            }
            var checkout = hostsCheckout ? fake.Url : "https://checkout.stripe.com";
            return Results.Json(new { id, @object = "checkout.session", url = $"{checkout}/c/pay/{id}" });
        });
        });
        return fake;
    }

    public async ValueTask DisposeAsync()
    {
        await _app!.StopAsync();
        await _app.DisposeAsync();
    }
}

internal sealed record SentSession(Dictionary<string, string> Form, string Authorization, string IdempotencyKey, string StripeVersion, string ContentType, string Id);
