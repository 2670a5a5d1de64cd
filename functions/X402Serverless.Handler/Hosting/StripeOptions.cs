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
}
