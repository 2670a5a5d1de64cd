namespace X402Serverless.Handler.ProviderConsole;

/// <summary>
/// The payer page's grant-credits form. Each rendering carries a fresh idempotency key, so the same form posted twice
/// (a double click, a resent request) grants once; the API's checks read the amount and memo.
/// </summary>
internal sealed class GrantForm
{
    public string? Amount { get; set; }

    public string? Memo { get; set; }

    public string? IdempotencyKey { get; set; }

    public static GrantForm New() => new() { IdempotencyKey = "cgrant_" + Guid.NewGuid().ToString("N") };
}
