namespace X402Serverless.Handler.Hosting;

/// <summary>Settings under "X402:Stripe". Secrets come from configuration or Key Vault references; never logged.</summary>
public sealed class StripeOptions
{
    public string? SecretKey { get; set; }

    /// <summary>The webhook endpoint's signing secret (whsec_...).</summary>
    public string? WebhookSecret { get; set; }

    public string ApiBase { get; set; } = "https://api.stripe.com";

    public string? SuccessUrl { get; set; }

    public string? CancelUrl { get; set; }

    public int ToleranceSeconds { get; set; } = 300;

    /// <summary>
    /// Where Checkout Sessions are hosted: the paywall's Content-Security-Policy lets its card form (and the redirect
    /// that follows it) go there and nowhere else.
    /// </summary>
    public string CheckoutOrigin { get; set; } = "https://checkout.stripe.com";

    /// <summary>
    /// How long a Checkout Session can be paid (its <c>expires_at</c>), in minutes: Stripe accepts 30 to 1,440 (24 hours);
    /// a value outside is brought to the nearer bound. Default 60.
    /// </summary>
    public int CheckoutExpiryMinutes { get; set; } = 60;

    /// <summary>
    /// How long the record of a checkout that credited nothing is kept after it was opened, in days (default 30): past
    /// Stripe's three days of webhook retries and the days a delayed payment method may take. The maintenance pass then
    /// forgets it; a completion arriving later still is logged for a refund (<c>not_recorded</c>), never credited.
    /// </summary>
    public int CheckoutRetentionDays { get; set; } = 30;

    /// <summary>
    /// The least <see cref="CheckoutRetentionDays"/> applied, whatever is configured: delayed payment methods (bank
    /// debits) can take days to succeed, and a record forgotten before its payment lands cannot be credited.
    /// </summary>
    public const int MinCheckoutRetentionDays = 14;

    public const int MinCheckoutExpiryMinutes = 30;

    public const int MaxCheckoutExpiryMinutes = 24 * 60;

    /// <summary>
    /// The expiry Stripe is sent: <see cref="CheckoutExpiryMinutes"/> within Stripe's bounds, kept a minute inside them
    /// (Stripe measures from its own receipt of the request, a moment later than our clock's reading).
    /// </summary>
    public TimeSpan CheckoutExpiry => TimeSpan.FromMinutes(Math.Clamp(CheckoutExpiryMinutes, MinCheckoutExpiryMinutes + 1, MaxCheckoutExpiryMinutes - 1));
}
