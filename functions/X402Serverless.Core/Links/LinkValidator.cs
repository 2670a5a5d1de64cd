using X402Serverless.Core.Evm;
using X402Serverless.Core.Networks;
using X402Serverless.Core.Money;
using X402Serverless.Core.Upstream;

namespace X402Serverless.Core.Links;

/// <summary>Checks a link draft and reports every problem at once, each with a stable code.</summary>
public sealed class LinkValidator(NetworkRegistry networks, UpstreamAddressPolicy upstreamPolicy, Func<string, bool> facilitatorAvailable)
{
    private static readonly HashSet<string> KnownMethods = new(StringComparer.OrdinalIgnoreCase)
    {
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS",
    };

    public async Task<List<ValidationError>> ValidateAsync(LinkDraft draft, bool creating, CancellationToken cancellationToken)
    {
        var errors = new List<ValidationError>();
        if (draft.Inbox is { } inbox)
        {
            // An inbox has no upstream: its paid POSTs are mailed, never forwarded.
            if (draft.Upstream is not null)
            {
                errors.Add(new("upstream", "inbox_has_no_upstream", "An inbox link has no upstream; leave upstream out."));
            }
            if (draft.PriceRules is { Count: > 0 })
            {
                errors.Add(new("priceRules", "inbox_has_no_price_rules", "An inbox link has one price per message; leave priceRules out."));
            }
            errors.AddRange(Inbox.InboxRules.Check(inbox.ToSettings()));
        }
        else if (creating || draft.Upstream is not null)
        {
            await ValidateUpstreamAsync(draft.Upstream, errors, cancellationToken);
        }
        if (creating || draft.Price is not null)
        {
            var input = draft.Price ?? UsdInput.Of(null);
            var (parsed, price) = (input.Error, input.Value);
            if (parsed == UsdParseError.TooPrecise)
            {
                errors.Add(new("price", "price_too_precise", "price has more decimals than the token can carry: at most 6 (one micro-dollar, $0.000001)."));
            }
            else if (parsed != UsdParseError.None || !price.IsPositive)
            {
                errors.Add(new("price", "invalid_price", parsed == UsdParseError.None
                    ? "price must be greater than zero."
                    : "price must be a USD decimal string such as \"0.01\" (digits, optional '.', at most 9 integer digits)."));
            }
            else
            {
                foreach (var n in TooCoarseFor(price, draft.Networks ?? [], networks))
                {
                    errors.Add(new("price", "price_too_precise", $"price has more decimals than the token on {n.Id} can carry ({n.Decimals})."));
                }
            }
        }
        if (creating || draft.PayTo is not null)
        {
            if (!EvmAddress.TryParse(draft.PayTo, out var payTo))
            {
                errors.Add(new("payTo", "invalid_pay_to", "payTo must be a 0x-prefixed 20-byte EVM address."));
            }
            else if (payTo == default(EvmAddress) || payTo.Bytes.ToArray().All(b => b == 0))
            {
                errors.Add(new("payTo", "invalid_pay_to", "payTo cannot be the zero address."));
            }
        }
        if (draft.Networks is { } ids)
        {
            if (ids.Count == 0)
            {
                errors.Add(new("networks", "invalid_networks", "networks needs at least one CAIP-2 network id."));
            }
            foreach (var id in ids)
            {
                if (!networks.TryGet(id ?? "", out _))
                {
                    errors.Add(new("networks", "unknown_network",
                        $"network '{id}' is not configured here; known: {string.Join(", ", networks.All.Select(n => n.Id))}."));
                }
            }
        }
        if (draft.Permit2Networks is { } permit2)
        {
            foreach (var id in permit2)
            {
                if (!networks.TryGet(id ?? "", out _))
                {
                    errors.Add(new("permit2Networks", "unknown_network", $"network '{id}' is not configured here."));
                }
            }
        }
        if (draft.Networks is { } offered && Permit2Outside(draft.Permit2Networks, offered) is { } outside)
        {
            errors.Add(outside);
        }
        if (draft.Methods is { } methods)
        {
            foreach (var m in methods)
            {
                if (!KnownMethods.Contains(m ?? ""))
                {
                    errors.Add(new("methods", "invalid_method", $"'{m}' is not an HTTP method this gateway forwards."));
                }
            }
        }
        if (draft.DeferredPayers is not null && !Payments.DeferredPayers.IsValid(draft.DeferredPayers))
        {
            errors.Add(new("deferredPayers", "invalid_deferred_payers",
                "deferredPayers is \"returning\" (wallets that have settled a payment here before; the rest are served sync) or \"any\"."));
        }
        if (draft.Settlement is not null && !Payments.SettlementModes.IsValid(draft.Settlement))
        {
            errors.Add(new("settlement", "invalid_settlement", "settlement is \"sync\" (content after settlement) or \"deferred\" (content first)."));
        }
        if (draft.Facilitator is not null && !(Payments.FacilitatorKinds.IsValid(draft.Facilitator) && facilitatorAvailable(draft.Facilitator)))
        {
            errors.Add(new("facilitator", "invalid_facilitator", $"facilitator '{draft.Facilitator}' is not available here (\"remote\", or \"builtin\" when a gas wallet is configured)."));
        }
        if (draft.Accepts is { } accepts && (accepts.Count == 0 || accepts.Any(a => !PaymentTypes.All.Contains(a))))
        {
            errors.Add(new("accepts", "invalid_accepts", $"accepts lists one or more of: {string.Join(", ", PaymentTypes.All)}."));
        }
        else if (draft.Accepts is { } withTransfer && withTransfer.Contains(PaymentTypes.Transfer) && !withTransfer.Contains(PaymentTypes.X402))
        {
            errors.Add(new("accepts", "transfer_needs_x402", "\"transfer\" is paid on the link's x402 networks, to its payTo: list \"x402\" too."));
        }
        if (draft.ChargeOn is not null && !ChargePolicies.IsValid(draft.ChargeOn))
        {
            errors.Add(new("chargeOn", "invalid_charge_policy", $"chargeOn is \"{ChargePolicies.Success}\" or \"{ChargePolicies.BelowServerError}\"."));
        }
        if (draft.DailyCapPerPayer is { IsPositive: false })
        {
            errors.Add(new("dailyCapPerPayer", "invalid_cap", "dailyCapPerPayer is a positive USD decimal string with at most 6 decimals."));
        }
        if (draft.KycLevel is not null && !Kyc.KycLevels.IsValid(draft.KycLevel))
        {
            errors.Add(new("kycLevel", "invalid_kyc_level", $"kycLevel is one of: {string.Join(", ", Kyc.KycLevels.All)}."));
        }
        if (draft.KycCountries is { } countries && countries.Any(c => c is not { Length: 2 } || !c.All(char.IsAsciiLetterUpper)))
        {
            errors.Add(new("kycCountries", "invalid_country", "kycCountries lists ISO 3166-1 alpha-2 codes, e.g. [\"DE\", \"NL\"]."));
        }
        if (draft.KycCountries is { Count: > 0 } && draft.KycLevel == Kyc.KycLevels.None)
        {
            errors.Add(new("kycCountries", "kyc_countries_need_level", "kycCountries needs kycLevel \"basic\" or \"full\": a country is only known from a verification."));
        }
        if (draft.Name is { Length: > 200 })
        {
            errors.Add(new("name", "too_long", "name is at most 200 characters."));
        }
        if (draft.Description is { Length: > 2000 })
        {
            errors.Add(new("description", "too_long", "description is at most 2000 characters."));
        }
        ListingRules.Check(draft, errors);
        if (draft.PriceRules is { } rules)
        {
            PriceRuleChecks.Check(rules, draft.Networks ?? [], networks, errors);
        }
        if (draft.RateLimit.Value is { } rateLimit)
        {
            RateLimitChecks.Check(rateLimit, errors);
        }
        if (draft.Pass.Value is { } pass)
        {
            errors.AddRange(pass.Check());
            if (pass.Price is { IsPositive: true } passPrice)
            {
                errors.AddRange(TooCoarseFor(passPrice.Value, draft.Networks ?? [], networks)
                    .Select(n => new ValidationError("pass.price", "price_too_precise", $"pass.price has more decimals than the token on {n.Id} can carry ({n.Decimals}).")));
            }
        }
        if (draft.UpstreamHeaders.Value is { } headers)
        {
            errors.AddRange(UpstreamHeaderRules.Check(headers));
        }
        return errors;
    }

    public static bool IsKnownMethod(string method) => KnownMethods.Contains(method);

    /// <summary>The configured networks among <paramref name="ids"/> whose token cannot carry <paramref name="price"/> exactly.</summary>
    internal static IEnumerable<EvmNetwork> TooCoarseFor(Usd price, IEnumerable<string> ids, NetworkRegistry networks) =>
        ids.Select(id => networks.TryGet(id, out var n) ? n : null).OfType<EvmNetwork>().Where(n => price.ToToken(n.Decimals) is null);

    private async Task ValidateUpstreamAsync(string? upstream, List<ValidationError> errors, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(upstream, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            errors.Add(new("upstream", "invalid_upstream", "upstream must be an absolute http or https URL."));
            return;
        }
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            errors.Add(new("upstream", "invalid_upstream", "upstream may not carry credentials in the URL; use upstreamHeaders."));
            return;
        }
        if (!string.IsNullOrEmpty(uri.Fragment))
        {
            errors.Add(new("upstream", "invalid_upstream", "upstream may not have a #fragment."));
            return;
        }
        var verdict = await upstreamPolicy.CheckHostAsync(uri.IdnHost, cancellationToken);
        if (verdict is not null)
        {
            errors.Add(new("upstream", verdict.Code, verdict.Message));
        }
    }

    /// <summary>A Permit2 network the link does not offer at all: refused, since its requirement would never be made.</summary>
    public static ValidationError? Permit2Outside(IReadOnlyList<string>? permit2Networks, IReadOnlyList<string> networks) =>
        permit2Networks?.FirstOrDefault(p => !networks.Contains(p ?? "", StringComparer.OrdinalIgnoreCase)) is { } outside
            ? new("permit2Networks", "permit2_network_not_offered", $"'{outside}' is not one of the link's networks ({string.Join(", ", networks)}).")
            : null;
}
