namespace X402Serverless.Handler.Hosting;

/// <summary>
/// Gateway-wide rate limits on paid links, under "X402:RateLimits": the default for every link that sets none of its
/// own (a link's rateLimit overrides each limit it names). Off by default. Buckets live in each instance's memory.
/// </summary>
public sealed class RateLimitOptions
{
    /// <summary>Calls one payer account or wallet may make to one link; unset: no default.</summary>
    public RateLimitSetting? PerPayer { get; set; }

    /// <summary>Calls one client address may make to one link; unset: no default.</summary>
    public RateLimitSetting? PerIp { get; set; }

    /// <summary>
    /// Payments from contract wallets one client address may present, gateway-wide: each costs the network's node an
    /// eth_call of code the payer chose (up to 1M gas), which no cache can spare, so junk ones are bounded per sender.
    /// On by default; null (configured empty) turns it off.
    /// </summary>
    public RateLimitSetting? ContractWalletChecksPerIp { get; set; } = new() { Requests = 600, PerSeconds = 60 };

    /// <summary>
    /// Card checkouts one client address may open (each is a Stripe API call and a stored record); on by default.
    /// </summary>
    public RateLimitSetting? CardCheckoutsPerIp { get; set; } = new() { Requests = 10, PerSeconds = 600 };

    /// <summary>Most buckets kept in memory; past it, idle buckets go first, then the least recently used.</summary>
    public int MaxBuckets { get; set; } = 100_000;
}

/// <summary>A token bucket: <see cref="Requests"/> calls at once, refilled at that many per <see cref="PerSeconds"/>.</summary>
public sealed class RateLimitSetting
{
    public int Requests { get; set; }

    public int PerSeconds { get; set; } = 60;
}
