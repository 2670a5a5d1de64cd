using System.Text.Json;
using X402Serverless.Core.Access;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Inbox;
using X402Serverless.Core.Kyc;
using X402Serverless.Core.Links;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Money;

namespace X402Serverless.Handler.Management;

/// <summary>
/// Validates a draft and writes the link: the one path the management API and the console share, so both apply
/// the same checks, defaults and cache invalidation.
/// </summary>
internal static class LinkEditor
{
    /// <summary>Creates the organisation's link, or returns every validation error and writes nothing.</summary>
    public static async Task<(PaidLink? Link, List<ValidationError> Errors)> CreateLinkAsync(
        this LinkServices s, string organisationId, LinkDraft draft, CancellationToken cancellationToken)
    {
        var (link, errors) = await s.PrepareLinkAsync(organisationId, draft, cancellationToken);
        if (link is null)
        {
            return (null, errors);
        }
        await s.Links.CreateAsync(link, cancellationToken);
        s.Catalogue.Invalidate();
        return (link, errors);
    }

    /// <summary>
    /// The link a create would write, checked but not stored: an import checks every link before it writes any.
    /// </summary>
    public static async Task<(PaidLink? Link, List<ValidationError> Errors)> PrepareLinkAsync(
        this LinkServices s, string organisationId, LinkDraft draft, CancellationToken cancellationToken)
    {
        draft = draft with { Networks = draft.Networks ?? s.Options.Value.DefaultNetworks };
        var errors = await s.Validator.ValidateAsync(draft, creating: true, cancellationToken);
        var (inbox, webhookErrors) = await s.CheckInboxWebhookAsync(draft.Inbox?.ToSettings(), draft.Inbox?.WebhookUrl, cancellationToken);
        errors.AddRange(webhookErrors);
        if (errors.Count > 0)
        {
            return (null, errors);
        }
        var now = s.Time.GetUtcNow();
        var link = new PaidLink
        {
            Id = ManagementKeys.NewId("lnk"),
            OrganisationId = organisationId,
            Name = draft.Name,
            Description = draft.Description,
            Upstream = inbox is not null ? InboxSettings.UpstreamFor(inbox.DeliverTo) : draft.Upstream!,
            Inbox = inbox,
            Price = draft.Price!.Value.Value,
            PayTo = EvmAddress.Parse(draft.PayTo!).ToString(),
            Networks = draft.Networks!.Distinct(StringComparer.OrdinalIgnoreCase).ToList(),
            // An inbox takes messages by POST only.
            Methods = draft.Inbox is not null ? ["POST"] : (draft.Methods ?? []).Distinct().ToList(),
            SealedUpstreamHeaders = draft.UpstreamHeaders.Value is { Count: > 0 } h ? s.Sealer.Seal(JsonSerializer.Serialize(h)) : null,
            Settlement = draft.Settlement ?? SettlementModes.Sync,
            DeferredPayers = draft.DeferredPayers ?? DeferredPayers.Returning,
            Facilitator = draft.Facilitator,
            VerifyOnChain = draft.VerifyOnChain ?? false,
            Permit2Networks = draft.Permit2Networks?.Distinct(StringComparer.OrdinalIgnoreCase).ToList() ?? [],
            PaymentIdentifierRequired = draft.PaymentIdentifierRequired ?? false,
            Accepts = draft.Accepts?.Distinct().ToList() ?? [PaymentTypes.X402],
            ChargeOn = draft.ChargeOn ?? ChargePolicies.Success,
            DailyCapPerPayer = draft.DailyCapPerPayer?.Value,
            PriceRules = draft.PriceRules?.Select(r => r.ToRule()).ToList() ?? [],
            KycLevel = draft.KycLevel ?? (draft.KycCountries is { Count: > 0 } ? KycLevels.Basic : KycLevels.None),
            KycCountries = draft.KycCountries ?? [],
            Listing = ListingRules.Apply(LinkListing.None, draft),
            RateLimit = draft.RateLimit.Value?.ToLimits(),
            Pass = draft.Pass.Value?.ToOffer(),
            Disabled = draft.Disabled ?? false,
            CreatedAt = now,
            UpdatedAt = now,
        };
        return ListingRules.CheckListed(link) is { } unnamed ? (null, [unnamed]) : (link, errors);
    }

    /// <summary>
    /// Applies the draft's present fields to <paramref name="link"/>. Returns the errors, or the updated link; both
    /// empty means the link vanished meanwhile.
    /// </summary>
    public static async Task<(PaidLink? Link, List<ValidationError> Errors)> UpdateLinkAsync(
        this LinkServices s, PaidLink link, LinkDraft draft, CancellationToken cancellationToken)
    {
        // Price precision is checked against the networks the link will have after the change.
        var checkDraft = draft with { Networks = draft.Networks ?? (draft.Price is null && draft.PriceRules is null && draft.Pass.Value is null ? null : link.Networks) };
        if (InboxChangeError(link, draft) is { } inboxError)
        {
            return (null, [inboxError]);
        }
        // An inbox's changes are checked as the settings they make, not as a new inbox's.
        var (inbox, webhookErrors) = await s.CheckInboxWebhookAsync(draft.Inbox?.ToSettings(link.Inbox), draft.Inbox?.WebhookUrl, cancellationToken);
        var errors = await s.Validator.ValidateAsync(checkDraft with { Inbox = null }, creating: false, cancellationToken);
        if (draft.Networks is null && LinkValidator.Permit2Outside(draft.Permit2Networks, link.Networks) is { } outside)
        {
            errors.Add(outside);
        }
        errors.AddRange(inbox is null ? [] : InboxRules.Check(inbox));
        errors.AddRange(webhookErrors);
        if (errors.Count > 0)
        {
            return (null, errors);
        }
        var sealedHeaders = draft.ClearsUpstreamHeaders
            ? null
            : draft.UpstreamHeaders.Value is { Count: > 0 } h ? s.Sealer.Seal(JsonSerializer.Serialize(h)) : link.SealedUpstreamHeaders;
        var updated = link with
        {
            Name = draft.Name ?? link.Name,
            Description = draft.Description ?? link.Description,
            Upstream = inbox is not null ? InboxSettings.UpstreamFor(inbox.DeliverTo) : draft.Upstream ?? link.Upstream,
            Inbox = inbox ?? link.Inbox,
            Price = draft.Price?.Value ?? link.Price,
            PayTo = draft.PayTo is null ? link.PayTo : EvmAddress.Parse(draft.PayTo).ToString(),
            Networks = draft.Networks?.Distinct(StringComparer.OrdinalIgnoreCase).ToList() ?? link.Networks,
            Methods = draft.Methods?.Distinct().ToList() ?? link.Methods,
            SealedUpstreamHeaders = sealedHeaders,
            Settlement = draft.Settlement ?? link.Settlement,
            DeferredPayers = draft.DeferredPayers ?? link.DeferredPayers,
            Facilitator = draft.Facilitator ?? link.Facilitator,
            VerifyOnChain = draft.VerifyOnChain ?? link.VerifyOnChain,
            Permit2Networks = draft.Permit2Networks?.Distinct(StringComparer.OrdinalIgnoreCase).ToList() ?? link.Permit2Networks,
            PaymentIdentifierRequired = draft.PaymentIdentifierRequired ?? link.PaymentIdentifierRequired,
            Accepts = draft.Accepts?.Distinct().ToList() ?? link.Accepts,
            ChargeOn = draft.ChargeOn ?? link.ChargeOn,
            DailyCapPerPayer = draft.DailyCapPerPayer?.Value ?? link.DailyCapPerPayer,
            PriceRules = draft.PriceRules?.Select(r => r.ToRule()).ToList() ?? link.PriceRules,
            KycLevel = draft.KycLevel ?? (draft.KycCountries is { Count: > 0 } && link.KycLevel == KycLevels.None ? KycLevels.Basic : link.KycLevel),
            KycCountries = draft.KycCountries ?? link.KycCountries,
            Listing = ListingRules.Apply(link.Listing, draft),
            RateLimit = draft.RateLimit.IsSent ? draft.RateLimit.Value?.ToLimits() : link.RateLimit,
            Pass = draft.Pass.IsSent ? draft.Pass.Value?.ToOffer() : link.Pass,
            Disabled = draft.Disabled ?? link.Disabled,
            UpdatedAt = s.Time.GetUtcNow(),
        };
        if (ListingRules.CheckListed(updated) is { } unnamed)
        {
            return (null, [unnamed]);
        }
        if (!await s.Links.UpdateAsync(updated, cancellationToken))
        {
            return (null, errors);
        }
        s.Cache.Invalidate(link.Id);
        s.Catalogue.Invalidate();
        return (updated, errors);
    }

    /// <summary>
    /// An inbox's webhook URL as given in this draft, checked as webhook endpoints' are (https, public address: the SSRF
    /// policy resolves the host), and a first signing secret when the inbox has a webhook and none yet. An unchanged
    /// URL is not checked again (a change of price must not fail on today's DNS); every connection is checked anyway.
    /// </summary>
    private static async Task<(InboxSettings? Inbox, List<ValidationError> Errors)> CheckInboxWebhookAsync(
        this LinkServices s, InboxSettings? inbox, string? givenUrl, CancellationToken cancellationToken)
    {
        if (inbox is null)
        {
            return (null, []);
        }
        if (!string.IsNullOrWhiteSpace(givenUrl))
        {
            var (url, errors) = await s.WebhookUrls.CheckAsync(givenUrl, cancellationToken);
            if (errors.Count > 0)
            {
                return (inbox, errors.Select(e => e with { Field = "inbox.webhookUrl" }).ToList());
            }
            inbox = inbox with { WebhookUrl = url };
        }
        return (Inbox.InboxWebhookSecrets.WithSecrets(inbox, s.Sealer, s.Time.GetUtcNow()), []);
    }

    /// <summary>Deletes the organisation's link and drops it from the caches; false when it has no such link.</summary>
    public static async Task<bool> DeleteLinkAsync(this LinkServices s, string organisationId, string id, CancellationToken cancellationToken)
    {
        if (!await s.Links.DeleteAsync(organisationId, id, cancellationToken))
        {
            return false;
        }
        s.Cache.Invalidate(id);
        s.Catalogue.Invalidate();
        return true;
    }

    /// <summary>An inbox stays an inbox and a forwarding link stays one: what a change may not do to either.</summary>
    private static ValidationError? InboxChangeError(PaidLink link, LinkDraft draft) => link.Inbox is null
        ? draft.Inbox is null ? null : new("inbox", "inbox_not_changeable", "A link becomes an inbox only when it is created.")
        : draft.Upstream is not null ? new("upstream", "inbox_has_no_upstream", "An inbox link has no upstream; leave upstream out.")
        : draft.PriceRules is { Count: > 0 } ? new("priceRules", "inbox_has_no_price_rules", "An inbox link has one price per message; leave priceRules out.")
        : draft.Methods is not null ? new("methods", "inbox_methods_fixed", "An inbox link takes messages by POST only.")
        : null;

    /// <summary>The link if this organisation owns it. A foreign link reads exactly like a missing one, so ids leak nothing.</summary>
    public static async Task<PaidLink?> FindOwnLinkAsync(this LinkServices s, string organisationId, string id, CancellationToken cancellationToken)
    {
        var link = await s.Links.FindAsync(id, cancellationToken);
        return link is not null && link.OrganisationId == organisationId ? link : null;
    }
}
