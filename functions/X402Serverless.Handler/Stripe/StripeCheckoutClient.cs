using Microsoft.Extensions.Options;
using Stripe;
using Stripe.Checkout;
using X402Serverless.Handler.Hosting;

namespace X402Serverless.Handler.Stripe;

/// <summary>
/// Creates Stripe Checkout Sessions with Stripe.net (its form encoding, Bearer secret key and pinned Stripe-Version),
/// with an Idempotency-Key so a retried request never opens two sessions, and an <c>expires_at</c>
/// (<see cref="StripeOptions.CheckoutExpiry"/>) so an abandoned session cannot be paid long after it was opened.
/// </summary>
internal sealed class StripeCheckoutClient(HttpClient http, IOptions<StripeOptions> options, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    private readonly Lazy<SessionService?> _sessions = new(() => Create(http, options.Value));

    public bool Configured => SecretValue.Resolved(options.Value.SecretKey) is not null;

    public async Task<(string? Id, string? Url, string? Error)> CreateAsync(long cents, string description, IReadOnlyDictionary<string, string> metadata,
        string clientReference, string idempotencyKey, CancellationToken cancellationToken, string? successUrl = null, string? cancelUrl = null)
    {
        if (_sessions.Value is not { } sessions)
        {
            return (null, null, "Stripe is not configured.");
        }
        var settings = options.Value;
        var create = new SessionCreateOptions
        {
            Mode = "payment",
            LineItems =
            [
                new SessionLineItemOptions
                {
                    Quantity = 1,
                    PriceData = new SessionLineItemPriceDataOptions
                    {
                        Currency = "usd",
                        UnitAmount = cents,
                        ProductData = new SessionLineItemPriceDataProductDataOptions { Name = description },
                    },
                },
            ],
            ClientReferenceId = clientReference,
            SuccessUrl = successUrl ?? settings.SuccessUrl ?? "https://example.invalid/success",
            CancelUrl = cancelUrl ?? settings.CancelUrl ?? "https://example.invalid/cancel",
            Metadata = new Dictionary<string, string>(metadata),
            ExpiresAt = (_time.GetUtcNow() + settings.CheckoutExpiry).UtcDateTime,
        };
        try
        {
            var session = await sessions.CreateAsync(create, new RequestOptions { IdempotencyKey = idempotencyKey }, cancellationToken);
            return session.Id is { } id && session.Url is { } url ? (id, url, null) : (null, null, "Stripe answered without a session URL.");
        }
        catch (StripeException e) when (e.StripeError?.Message is { } message)
        {
            return (null, null, message);
        }
        catch (StripeException e) when (e.HttpStatusCode != 0)
        {
            return (null, null, $"Stripe answered {(int)e.HttpStatusCode}.");
        }
        catch (Exception e) when (e is StripeException or HttpRequestException or TaskCanceledException)
        {
            return (null, null, "Stripe could not be reached.");
        }
    }

    private static SessionService? Create(HttpClient http, StripeOptions settings)
    {
        if (SecretValue.Resolved(settings.SecretKey) is not { } secretKey)
        {
            return null;
        }
        // No library retries (the payer's retry with the same Idempotency-Key is the retry, and a request never waits
        // through several timeouts) and no telemetry header about earlier requests.
        var transport = new SystemNetHttpClient(http, maxNetworkRetries: 0, appInfo: null, enableTelemetry: false);
        var client = new StripeClient(apiKey: secretKey, httpClient: transport, apiBase: settings.ApiBase.TrimEnd('/'));
        return new SessionService(client);
    }
}
