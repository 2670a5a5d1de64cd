using System.Text.Json;
using X402Serverless.Core.Links;
using X402Serverless.Core.Money;

namespace X402Serverless.Handler.Management;

/// <summary>A link as the management API shows it. Upstream header values are never shown.</summary>
internal sealed record LinkView(
    string Id,
    string Url,
    string? Name,
    string? Description,
    string Upstream,
    Usd Price,
    IReadOnlyList<PriceRule> PriceRules,
    string PayTo,
    IReadOnlyList<string> Networks,
    IReadOnlyList<string> Methods,
    bool HasUpstreamHeaders,
    string Settlement,
    string DeferredPayers,
    string? Facilitator,
    bool VerifyOnChain,
    bool PaymentIdentifierRequired,
    IReadOnlyList<string> Accepts,
    string ChargeOn,
    Usd? DailyCapPerPayer,
    string KycLevel,
    IReadOnlyList<string> KycCountries,
    LinkRateLimits? RateLimit,
    bool Listed,
    IReadOnlyList<string> Tags,
    string? Category,
    string? ExampleRequest,
    JsonElement? InputSchema,
    JsonElement? OutputSchema,
    bool HealthProbe,
    string? HealthPath,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    InboxView? Inbox = null,
    Core.Passes.PassOffer? Pass = null,
    bool Disabled = false,
    IReadOnlyList<string>? Permit2Networks = null)
{
    /// <param name="webhookSecret">An inbox webhook's signing secret issued by this change: answered this once, never again.</param>
    public static LinkView From(PaidLink link, string baseUrl, string? webhookSecret = null) => new(
        link.Id,
        $"{baseUrl}/l/{link.Id}",
        link.Name,
        link.Description,
        link.Upstream,
        link.Price,
        link.PriceRules,
        link.PayTo,
        link.Networks,
        link.Methods,
        link.SealedUpstreamHeaders is not null,
        link.Settlement,
        link.DeferredPayers,
        link.Facilitator,
        link.VerifyOnChain,
        link.PaymentIdentifierRequired,
        link.Accepts,
        link.ChargeOn,
        link.DailyCapPerPayer,
        link.KycLevel,
        link.KycCountries,
        link.RateLimit,
        link.Listing.Listed,
        link.Listing.Tags,
        link.Listing.Category,
        link.Listing.ExampleRequest,
        Json(link.Listing.InputSchema),
        Json(link.Listing.OutputSchema),
        link.Listing.HealthProbe,
        link.Listing.HealthPath,
        link.CreatedAt,
        link.UpdatedAt,
        link.Inbox is { } inbox ? InboxView.From(inbox, webhookSecret) : null,
        link.Pass,
        link.Disabled,
        link.Permit2Networks);

    private static JsonElement? Json(string? text)
    {
        if (text is null)
        {
            return null;
        }
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }
}

/// <summary>An inbox's settings as the API shows them: never its sealed secrets; the plaintext only in the answer that issued it.</summary>
internal sealed record InboxView(
    string DeliverTo,
    int MaxMessageBytes,
    string? AutoReply,
    IReadOnlyList<string> Allow,
    IReadOnlyList<string> Block,
    string? WebhookUrl,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    string? WebhookSecret)
{
    public static InboxView From(Core.Inbox.InboxSettings inbox, string? webhookSecret) => new(
        inbox.DeliverTo, inbox.MaxMessageBytes, inbox.AutoReply, inbox.Allow, inbox.Block, inbox.WebhookUrl, webhookSecret);
}
