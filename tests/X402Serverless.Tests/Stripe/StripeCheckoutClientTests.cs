using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using X402Serverless.Handler.Hosting;
using X402Serverless.Handler.Stripe;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Stripe;

/// <summary>Stripe.net pointed at a loopback stub: the documented wire format, and each failure told apart.</summary>
public sealed class StripeCheckoutClientTests : IAsyncLifetime
{
    private FakeStripeApi _stripe = null!;

    public async Task InitializeAsync() => _stripe = await FakeStripeApi.StartAsync();

    public async Task DisposeAsync() => await _stripe.DisposeAsync();

    [Fact]
    public async Task A_session_is_sent_form_encoded_with_the_key_the_idempotency_key_and_a_pinned_version()
    {
        var (id, url, error) = await Client(_stripe.Url).CreateAsync(1234, "Credits", new Dictionary<string, string> { ["payer_id"] = "payer_1" },
            "payer_1", "payer_1:retry-safe", default);

        Assert.Null(error);
        Assert.StartsWith("cs_test_", id, StringComparison.Ordinal);
        Assert.Equal($"https://checkout.stripe.com/c/pay/{id}", url);
        var sent = Assert.Single(_stripe.Sessions);
        Assert.StartsWith("application/x-www-form-urlencoded", sent.ContentType, StringComparison.Ordinal);
        Assert.Equal("Bearer sk_test_client", sent.Authorization);
        Assert.Equal("payer_1:retry-safe", sent.IdempotencyKey);
        Assert.Equal(global::Stripe.StripeConfiguration.ApiVersion, sent.StripeVersion);
        Assert.Equal("payment", sent.Form["mode"]);
        Assert.Equal("1", sent.Form["line_items[0][quantity]"]);
        Assert.Equal("usd", sent.Form["line_items[0][price_data][currency]"]);
        Assert.Equal("1234", sent.Form["line_items[0][price_data][unit_amount]"]);
        Assert.Equal("Credits", sent.Form["line_items[0][price_data][product_data][name]"]);
        Assert.Equal("payer_1", sent.Form["client_reference_id"]);
        Assert.Equal("payer_1", sent.Form["metadata[payer_id]"]);
        Assert.Equal("https://app.example/ok", sent.Form["success_url"]);
        Assert.Equal("https://app.example/cancel", sent.Form["cancel_url"]);
    }

    [Theory]
    [InlineData(null, 60)]
    [InlineData(90, 90)]
    [InlineData(5, 31)] // below Stripe's 30 minutes: the minimum, a minute inside
    [InlineData(100_000, 1439)] // above Stripe's 24 hours: the maximum, a minute inside
    public async Task A_session_expires_after_the_configured_minutes_within_stripes_bounds(int? configured, int expectedMinutes)
    {
        var now = new DateTimeOffset(2026, 11, 27, 6, 0, 0, TimeSpan.Zero);
        var options = new StripeOptions { SecretKey = "sk_test_client", ApiBase = _stripe.Url };
        if (configured is { } minutes)
        {
            options.CheckoutExpiryMinutes = minutes;
        }
        var client = new StripeCheckoutClient(new HttpClient { Timeout = TimeSpan.FromSeconds(10) }, Options.Create(options),
            new Microsoft.Extensions.Time.Testing.FakeTimeProvider(now));

        var (_, _, error) = await client.CreateAsync(500, "Credits", new Dictionary<string, string>(), "payer_1", "k-expiry", default);

        Assert.Null(error);
        var sent = Assert.Single(_stripe.Sessions);
        Assert.Equal(now.AddMinutes(expectedMinutes).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), sent.Form["expires_at"]);
    }

    [Fact]
    public async Task Stripes_own_error_message_is_passed_on()
    {
        var (id, _, error) = await Client(_stripe.Url).CreateAsync(10, "Credits", new Dictionary<string, string>(), FakeStripeApi.RefusedReference, "k1", default);
        Assert.Null(id);
        Assert.Equal("Amount must be at least $0.50 usd", error);
        Assert.Single(_stripe.Sessions); // not retried by the library
    }

    [Fact]
    public async Task An_unreachable_api_is_reported_without_retries()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens there now: connection refused

        var (id, _, error) = await Client($"http://127.0.0.1:{port}").CreateAsync(500, "Credits", new Dictionary<string, string>(), "payer_1", "k2", default);
        Assert.Null(id);
        Assert.Equal("Stripe could not be reached.", error);
    }

    [Fact]
    public void Without_a_secret_key_it_is_not_configured() =>
        Assert.False(new StripeCheckoutClient(new HttpClient(), Options.Create(new StripeOptions())).Configured);

    private static StripeCheckoutClient Client(string apiBase)
    {
        var options = new StripeOptions
        {
            SecretKey = "sk_test_client",
            ApiBase = apiBase,
            SuccessUrl = "https://app.example/ok",
            CancelUrl = "https://app.example/cancel",
        };
        return new StripeCheckoutClient(new HttpClient { Timeout = TimeSpan.FromSeconds(10) }, Options.Create(options));
    }
}
