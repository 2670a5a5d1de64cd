using X402Serverless.Core.Networks;

namespace X402Serverless.Handler.Hosting;

/// <summary>Settings under the "X402" configuration section (environment: X402__Name).</summary>
public sealed class GatewayOptions
{
    public const string Section = "X402";

    /// <summary>Where the embedded store and data-protection keys live.</summary>
    public string DataDirectory { get; set; } = ".x402";

    /// <summary>Public origin of the gateway (Front Door URL in Azure); drives paid URLs and x402 resource URLs. Empty: taken from the request.</summary>
    public string? PublicBaseUrl { get; set; }

    /// <summary>
    /// An origin of their own for paid links (e.g. https://links.example.com, routed to this gateway). Empty: links share
    /// the console's origin, so forwarded responses are sandboxed (Content-Security-Policy: sandbox, no same-origin).
    /// </summary>
    public string? LinksOrigin { get; set; }

    /// <summary>A standard x402 facilitator (x402.org, CDP, PayAI, self-hosted).</summary>
    public string FacilitatorUrl { get; set; } = "https://x402.org/facilitator";

    /// <summary>Networks a new link accepts when it names none.</summary>
    public List<string> DefaultNetworks { get; set; } = ["eip155:84532"];

    /// <summary>Chains added to or overriding the built-in Base and Base Sepolia.</summary>
    public List<NetworkSettings> Networks { get; set; } = [];

    /// <summary>CIDR ranges upstreams may use even though they are private or loopback (e.g. "127.0.0.0/8").</summary>
    public List<string> AllowedUpstreamRanges { get; set; } = [];

    /// <summary>
    /// Also ask the facilitator's /verify (on-chain simulation: balance, nonce state) before calling the upstream.
    /// Costs a round trip per paid call; spares upstreams from payers whose settlement would fail.
    /// </summary>
    public bool VerifyWithFacilitator { get; set; }

    public SettlementOptions Settlement { get; set; } = new();

    public CreditsOptions Credits { get; set; } = new();

    public StripeOptions Stripe { get; set; } = new();

    public KycOptions Kyc { get; set; } = new();

    public WebhookOptions Webhooks { get; set; } = new();

    public InboxOptions Inbox { get; set; } = new();

    public OutboundWebhookOptions OutboundWebhooks { get; set; } = new();

    public ServiceBusOptions ServiceBus { get; set; } = new();

    public StorageOptions Storage { get; set; } = new();

    public SignupOptions Signup { get; set; } = new();

    public HealthOptions Health { get; set; } = new();

    public RateLimitOptions RateLimits { get; set; } = new();

    public Idempotency.PaymentIdentifierOptions PaymentIdentifiers { get; set; } = new();

    public Transfers.TransferOptions Transfers { get; set; } = new();

    /// <summary>
    /// Base64 32-byte key sealing provider secrets (a Key Vault reference in Azure), shared by every instance. Empty:
    /// local data-protection keys in DataDirectory (one machine).
    /// </summary>
    public string? SealingKey { get; set; }

    /// <summary>The Front Door profile id (X-Azure-FDID) public requests must carry; empty when not behind Front Door.</summary>
    public string? FrontDoorId { get; set; }

    public int UpstreamTimeoutSeconds { get; set; } = 30;

    /// <summary>maxTimeoutSeconds advertised in requirements: how long a signed authorization stays valid.</summary>
    public int MaxTimeoutSeconds { get; set; } = 300;

    /// <summary>Largest request body a paid link forwards to its upstream; larger ones get 413 before any payment is looked at.</summary>
    public long MaxForwardedBodyBytes { get; set; } = 10 * 1024 * 1024;

    /// <summary>Largest upstream body held back while settlement runs.</summary>
    public long MaxBufferedResponseBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary>How long a link stays cached on the paid path; edits on this instance invalidate at once.</summary>
    public int LinkCacheSeconds { get; set; } = 30;
}
