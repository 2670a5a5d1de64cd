namespace X402Serverless.Handler.Hosting;

/// <summary>Self-serve sign-up with a wallet (Sign-In with Ethereum), under "X402:Signup".</summary>
public sealed class SignupOptions
{
    /// <summary>Anyone may sign up as a provider or payer; off: /api/signup answers 403 signup_closed (organisations still invite members).</summary>
    public bool Open { get; set; } = true;

    /// <summary>How long an issued nonce may be signed and used.</summary>
    public int NonceSeconds { get; set; } = 600;

    /// <summary>How far ahead of this gateway's clock a wallet's "Issued At" (or a bound) may be.</summary>
    public int ClockSkewSeconds { get; set; } = 60;

    /// <summary>Requests to /api/signup per client address per minute (nonces and sign-ups together); then 429 rate_limited.</summary>
    public int RequestsPerMinute { get; set; } = 20;
}
