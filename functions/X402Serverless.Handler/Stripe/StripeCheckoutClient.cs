using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Options;
using X402Serverless.Handler.Hosting;

namespace X402Serverless.Handler.Stripe;

/// <summary>
/// Creates Stripe Checkout Sessions over Stripe's REST API (form-encoded POST /v1/checkout/sessions, Bearer secret
/// key, an Idempotency-Key so a retried request never opens two sessions).
/// </summary>
internal sealed class StripeCheckoutClient(HttpClient http, IOptions<StripeOptions> options)
{
    private StripeOptions Settings => options.Value;

    public bool Configured => SecretValue.Resolved(Settings.SecretKey) is not null;

    public async Task<(string? Id, string? Url, string? Error)> CreateAsync(long cents, string description, IReadOnlyDictionary<string, string> metadata,
        string clientReference, string idempotencyKey, CancellationToken cancellationToken)
    {
        var form = new List<KeyValuePair<string, string>>
        {
            new("mode", "payment"),
            new("line_items[0][quantity]", "1"),
            new("line_items[0][price_data][currency]", "usd"),
            new("line_items[0][price_data][unit_amount]", cents.ToString(CultureInfo.InvariantCulture)),
            new("line_items[0][price_data][product_data][name]", description),
            new("client_reference_id", clientReference),
            new("success_url", Settings.SuccessUrl ?? "https://example.invalid/success"),
            new("cancel_url", Settings.CancelUrl ?? "https://example.invalid/cancel"),
        };
        foreach (var (key, value) in metadata)
        {
            form.Add(new($"metadata[{key}]", value));
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, Settings.ApiBase.TrimEnd('/') + "/v1/checkout/sessions")
        {
            Content = new FormUrlEncodedContent(form),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Settings.SecretKey);
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                var message = body.TryGetProperty("error", out var e) && e.TryGetProperty("message", out var m) ? m.GetString() : null;
                return (null, null, message ?? $"Stripe answered {(int)response.StatusCode}.");
            }
            return (body.GetProperty("id").GetString(), body.GetProperty("url").GetString(), null);
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or TaskCanceledException or KeyNotFoundException)
        {
            return (null, null, "Stripe could not be reached.");
        }
    }
}
