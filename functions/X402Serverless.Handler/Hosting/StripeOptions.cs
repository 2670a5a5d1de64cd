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
}
