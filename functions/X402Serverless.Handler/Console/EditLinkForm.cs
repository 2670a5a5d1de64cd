using System.Globalization;
using System.Text.Json;
using X402Serverless.Core.Json;
using X402Serverless.Core.Links;
using X402Serverless.Core.Money;
using X402Serverless.Core.Passes;

namespace X402Serverless.Handler.ProviderConsole;

/// <summary>
/// The edit form on a link's page: every field PATCH /api/links/{id} changes. Unchanged fields are left out of the
/// draft, so only what was changed is checked and written; an emptied optional field is removed where the API can
/// remove it. The form only turns text into a <see cref="LinkDraft"/> (reporting text it cannot read, such as a
/// number that is not one); checking is the shared validator's, as for the API. Upstream header values are
/// write-only: the box starts empty and a value typed into it is never rendered back.
/// </summary>
internal sealed class EditLinkForm
{
    public string? Name { get; set; }

    public string? Price { get; set; }

    public string? Description { get; set; }

    public string? Upstream { get; set; }

    public string? PayTo { get; set; }

    /// <summary>CAIP-2 ids separated by commas or spaces.</summary>
    public string? Networks { get; set; }

    /// <summary>Of the networks, those paid through Permit2: CAIP-2 ids separated by commas or spaces.</summary>
    public string? Permit2Networks { get; set; }

    /// <summary>HTTP methods separated by commas or spaces; empty forwards every method.</summary>
    public string? Methods { get; set; }

    public bool AcceptX402 { get; set; }

    public bool AcceptCredits { get; set; }

    public bool AcceptAllowance { get; set; }

    public bool AcceptTransfer { get; set; }

    public string? Settlement { get; set; }

    public string? DeferredPayers { get; set; }

    /// <summary>"remote" or "builtin"; empty keeps the gateway's default.</summary>
    public string? Facilitator { get; set; }

    public bool VerifyOnChain { get; set; }

    public bool PaymentIdentifierRequired { get; set; }

    public string? ChargeOn { get; set; }

    public string? DailyCapPerPayer { get; set; }

    public string? KycLevel { get; set; }

    /// <summary>ISO 3166-1 alpha-2 codes separated by commas or spaces.</summary>
    public string? KycCountries { get; set; }

    /// <summary>One rule a line: "GET /v1/report 0.05", "POST 0.02" or "/v2 0.03".</summary>
    public string? PriceRules { get; set; }

    public string? PerPayerRequests { get; set; }

    public string? PerPayerSeconds { get; set; }

    public string? PerIpRequests { get; set; }

    public string? PerIpSeconds { get; set; }

    public string? PassPrice { get; set; }

    public string? PassCalls { get; set; }

    public string? PassMinutes { get; set; }

    /// <summary>"Name: value" a line, replacing every secret header; never filled from the link.</summary>
    public string? UpstreamHeaders { get; set; }

    public bool ClearUpstreamHeaders { get; set; }

    public bool HealthProbe { get; set; }

    /// <summary>An inbox link's settings: where messages go, their size bound, the auto-reply and the senders who write free.</summary>
    public string? InboxDeliverTo { get; set; }

    public string? InboxMaxMessageBytes { get; set; }

    public string? InboxAutoReply { get; set; }

    /// <summary>One sender a line (payer id, wallet or email address).</summary>
    public string? InboxAllow { get; set; }

    public string? HealthPath { get; set; }

    public bool Listed { get; set; }

    /// <summary>Separated by commas or spaces.</summary>
    public string? Tags { get; set; }

    public string? Category { get; set; }

    public string? ExampleRequest { get; set; }

    /// <summary>JSON Schema text; empty removes it.</summary>
    public string? InputSchema { get; set; }

    public string? OutputSchema { get; set; }

    public static EditLinkForm From(PaidLink link) => new()
    {
        Name = link.Name,
        Price = link.Price.ToString(),
        Description = link.Description,
        Upstream = link.Inbox is null ? link.Upstream : null,
        PayTo = link.PayTo,
        Networks = string.Join(", ", link.Networks),
        Permit2Networks = string.Join(", ", link.Permit2Networks),
        Methods = string.Join(", ", link.Methods),
        AcceptX402 = link.Accepts.Contains(PaymentTypes.X402),
        AcceptCredits = link.Accepts.Contains(PaymentTypes.Credits),
        AcceptAllowance = link.Accepts.Contains(PaymentTypes.Allowance),
        AcceptTransfer = link.Accepts.Contains(PaymentTypes.Transfer),
        Settlement = link.Settlement,
        DeferredPayers = link.DeferredPayers,
        Facilitator = link.Facilitator ?? "",
        VerifyOnChain = link.VerifyOnChain,
        PaymentIdentifierRequired = link.PaymentIdentifierRequired,
        ChargeOn = link.ChargeOn,
        DailyCapPerPayer = link.DailyCapPerPayer?.ToString(),
        KycLevel = link.KycLevel,
        KycCountries = string.Join(", ", link.KycCountries),
        PriceRules = PriceRulesText(link.PriceRules),
        PerPayerRequests = Number(link.RateLimit?.PerPayer?.Requests),
        PerPayerSeconds = Number(link.RateLimit?.PerPayer?.PerSeconds),
        PerIpRequests = Number(link.RateLimit?.PerIp?.Requests),
        PerIpSeconds = Number(link.RateLimit?.PerIp?.PerSeconds),
        PassPrice = link.Pass?.Price.ToString(),
        PassCalls = Number(link.Pass?.Calls),
        PassMinutes = Number(link.Pass?.Minutes),
        HealthProbe = link.Listing.HealthProbe,
        InboxDeliverTo = link.Inbox?.DeliverTo,
        InboxMaxMessageBytes = Number(link.Inbox?.MaxMessageBytes),
        InboxAutoReply = link.Inbox?.AutoReply,
        InboxAllow = link.Inbox is { } inbox ? string.Join("\n", inbox.Allow) : null,
        HealthPath = link.Listing.HealthPath,
        Listed = link.Listing.Listed,
        Tags = string.Join(", ", link.Listing.Tags),
        Category = link.Listing.Category,
        ExampleRequest = link.Listing.ExampleRequest,
        InputSchema = link.Listing.InputSchema is { } input ? Listings.CataloguePages.Pretty(input) : null,
        OutputSchema = link.Listing.OutputSchema is { } output ? Listings.CataloguePages.Pretty(output) : null,
    };

    /// <summary>
    /// The change the form asks for, or the text it could not read (in <paramref name="errors"/>, with the API's field
    /// names). An inbox link's upstream, methods and price rules are fixed, so they are never sent for one.
    /// </summary>
    public LinkDraft ToDraft(PaidLink link, List<ValidationError> errors)
    {
        var tags = List(Tags).Select(t => t.ToLowerInvariant()).Distinct().ToList();
        var forwarding = link.Inbox is null;
        var networks = List(Networks);
        var permit2 = List(Permit2Networks);
        var methods = List(Methods).Select(m => m.ToUpperInvariant()).Distinct().ToList();
        var accepts = Accepts();
        var countries = List(KycCountries).Select(c => c.ToUpperInvariant()).Distinct().ToList();
        var rules = forwarding ? ReadPriceRules(errors) : null;
        return new()
        {
            Name = NewLinkForm.Blank(Name) is { } name && name != link.Name ? name : null,
            // An emptied price (or address, upstream, networks) is sent as "" so the validator reports it as required instead of ignoring it.
            Price = NewLinkForm.Blank(Price) is { } price ? (price == link.Price.ToString() ? null : UsdInput.Of(price)) : UsdInput.Of(""),
            Description = Changed(Description, link.Description),
            Upstream = !forwarding ? null : NewLinkForm.Blank(Upstream) is { } upstream ? (upstream == link.Upstream ? null : upstream) : "",
            PayTo = NewLinkForm.Blank(PayTo) is { } payTo ? (string.Equals(payTo, link.PayTo, StringComparison.OrdinalIgnoreCase) ? null : payTo) : "",
            Networks = networks.SequenceEqual(link.Networks, StringComparer.OrdinalIgnoreCase) ? null : networks,
            Permit2Networks = permit2.SequenceEqual(link.Permit2Networks, StringComparer.OrdinalIgnoreCase) ? null : permit2,
            Methods = !forwarding || methods.SequenceEqual(link.Methods) ? null : methods,
            Accepts = accepts.Order().SequenceEqual(link.Accepts.Order()) ? null : accepts,
            Settlement = Picked(Settlement, link.Settlement),
            DeferredPayers = Picked(DeferredPayers, link.DeferredPayers),
            Facilitator = Picked(Facilitator, link.Facilitator),
            VerifyOnChain = VerifyOnChain == link.VerifyOnChain ? null : VerifyOnChain,
            PaymentIdentifierRequired = PaymentIdentifierRequired == link.PaymentIdentifierRequired ? null : PaymentIdentifierRequired,
            ChargeOn = Picked(ChargeOn, link.ChargeOn),
            // The API keeps a cap once set (no way to remove one), so an emptied box leaves it.
            DailyCapPerPayer = NewLinkForm.Blank(DailyCapPerPayer) is { } cap && cap != link.DailyCapPerPayer?.ToString() ? UsdInput.Of(cap) : null,
            KycLevel = Picked(KycLevel, link.KycLevel),
            KycCountries = countries.SequenceEqual(link.KycCountries) ? null : countries,
            PriceRules = rules is null || rules.SequenceEqual(link.PriceRules.Select(ToDraft)) ? null : rules,
            RateLimit = ReadRateLimit(link.RateLimit, errors),
            Pass = ReadPass(link.Pass, errors),
            UpstreamHeaders = ReadHeaders(errors),
            Inbox = link.Inbox is { } inbox ? ReadInbox(inbox, errors) : null,
            HealthProbe = HealthProbe == link.Listing.HealthProbe ? null : HealthProbe,
            HealthPath = Changed(HealthPath, link.Listing.HealthPath),
            Listed = Listed == link.Listing.Listed ? null : Listed,
            Tags = tags.SequenceEqual(link.Listing.Tags) ? null : tags,
            Category = Changed(Category, link.Listing.Category),
            ExampleRequest = Changed(ExampleRequest, link.Listing.ExampleRequest),
            InputSchema = Schema(InputSchema, link.Listing.InputSchema),
            OutputSchema = Schema(OutputSchema, link.Listing.OutputSchema),
        };
    }

    private List<string> Accepts() => NewLinkForm.CheckedTypes(AcceptX402, AcceptCredits, AcceptAllowance, AcceptTransfer);

    // Every box empty removes the limits (the gateway's defaults apply); a bucket with both boxes empty is left out.
    private Patch<RateLimitDraft> ReadRateLimit(LinkRateLimits? current, List<ValidationError> errors)
    {
        var perPayer = Rule("rateLimit.perPayer", PerPayerRequests, PerPayerSeconds, errors);
        var perIp = Rule("rateLimit.perIp", PerIpRequests, PerIpSeconds, errors);
        if (perPayer is null && perIp is null)
        {
            return current is null ? default : new(true, null);
        }
        var same = current is not null && Same(perPayer, current.PerPayer) && Same(perIp, current.PerIp);
        return same ? default : new(true, new RateLimitDraft { PerPayer = perPayer, PerIp = perIp });

        static bool Same(RateLimitRuleDraft? sent, RateLimit? rule) =>
            sent is null ? rule is null : rule is not null && sent.Requests == rule.Requests && sent.PerSeconds == rule.PerSeconds;
    }

    private static RateLimitRuleDraft? Rule(string field, string? requests, string? seconds, List<ValidationError> errors) =>
        NewLinkForm.Blank(requests) is null && NewLinkForm.Blank(seconds) is null
            ? null
            : new RateLimitRuleDraft
            {
                Requests = WholeNumber(field + ".requests", requests, errors),
                PerSeconds = WholeNumber(field + ".perSeconds", seconds, errors),
            };

    // Every box empty stops selling (passes already sold stay valid).
    private Patch<PassOfferDraft> ReadPass(PassOffer? current, List<ValidationError> errors)
    {
        if (NewLinkForm.Blank(PassPrice) is null && NewLinkForm.Blank(PassCalls) is null && NewLinkForm.Blank(PassMinutes) is null)
        {
            return current is null ? default : new(true, null);
        }
        var draft = new PassOfferDraft
        {
            Price = UsdInput.Of(NewLinkForm.Blank(PassPrice) ?? ""),
            Calls = NewLinkForm.Blank(PassCalls) is null ? null : WholeNumber("pass.calls", PassCalls, errors),
            Minutes = NewLinkForm.Blank(PassMinutes) is null ? null : WholeNumber("pass.minutes", PassMinutes, errors),
        };
        var same = current is not null && draft.Price is { IsValid: true } p && p.Value == current.Price
            && draft.Calls == current.Calls && draft.Minutes == current.Minutes;
        return same ? default : new(true, draft);
    }

    // Only what changed is sent; an emptied auto-reply or allow list removes it.
    private Core.Inbox.InboxDraft? ReadInbox(Core.Inbox.InboxSettings current, List<ValidationError> errors)
    {
        var deliverTo = NewLinkForm.Blank(InboxDeliverTo) ?? "";
        var size = NewLinkForm.Blank(InboxMaxMessageBytes) is null ? null : WholeNumber("inbox.maxMessageBytes", InboxMaxMessageBytes, errors);
        var autoReply = NewLinkForm.Blank(InboxAutoReply) ?? "";
        var allow = (InboxAllow ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(a => a.ToLowerInvariant()).Distinct().ToList();
        var draft = new Core.Inbox.InboxDraft
        {
            DeliverTo = deliverTo == current.DeliverTo ? null : deliverTo,
            MaxMessageBytes = size is null || size == current.MaxMessageBytes ? null : (int)Math.Clamp(size.Value, int.MinValue, int.MaxValue),
            AutoReply = autoReply == (current.AutoReply ?? "") ? null : autoReply,
            Allow = allow.SequenceEqual(current.Allow) ? null : allow,
        };
        return draft is { DeliverTo: null, MaxMessageBytes: null, AutoReply: null, Allow: null } ? null : draft;
    }

    private Patch<Dictionary<string, string>> ReadHeaders(List<ValidationError> errors)
    {
        if (ClearUpstreamHeaders)
        {
            return new(true, null);
        }
        if (NewLinkForm.Blank(UpstreamHeaders) is not { } text)
        {
            return default;
        }
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in text.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Trim().Length > 0))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                // The line is not quoted back: it may hold a secret.
                errors.Add(new("upstreamHeaders", "invalid_upstream_header", "Write one header a line as \"Name: value\"."));
                return default;
            }
            headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }
        return new(true, headers);
    }

    private List<PriceRuleDraft>? ReadPriceRules(List<ValidationError> errors)
    {
        var rules = new List<PriceRuleDraft>();
        var lines = (PriceRules ?? "").Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        for (var i = 0; i < lines.Count; i++)
        {
            var parts = lines[i].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            string? method = null, prefix = null;
            if (parts.Length is 2 or 3)
            {
                foreach (var part in parts[..^1])
                {
                    if (part.StartsWith('/') && prefix is null)
                    {
                        prefix = part;
                    }
                    else if (!part.StartsWith('/') && method is null && prefix is null)
                    {
                        method = part.ToUpperInvariant();
                    }
                    else
                    {
                        (method, prefix) = (null, null);
                        break;
                    }
                }
            }
            if (method is null && prefix is null)
            {
                errors.Add(new($"priceRules[{i}]", "invalid_price_rule", $"Price rule line {i + 1}: write \"METHOD /path price\", \"METHOD price\" or \"/path price\"."));
                continue;
            }
            rules.Add(new PriceRuleDraft { Method = method, PathPrefix = prefix, Price = UsdInput.Of(parts[^1]) });
        }
        return rules;
    }

    private static string PriceRulesText(IReadOnlyList<PriceRule> rules) =>
        string.Join("\n", rules.Select(r => string.Join(' ', new[] { r.Method, r.PathPrefix, r.Price.ToString() }.Where(p => p is not null))));

    private static PriceRuleDraft ToDraft(PriceRule rule) => new() { Method = rule.Method, PathPrefix = rule.PathPrefix, Price = UsdInput.Of(rule.Price.ToString()) };

    // Out-of-range numbers are the validator's to report (with its limits); only text that is no number is reported here.
    private static long? WholeNumber(string field, string? text, List<ValidationError> errors)
    {
        if (NewLinkForm.Blank(text) is not { } value)
        {
            return null;
        }
        if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return number;
        }
        errors.Add(new(field, "invalid_number", $"{field} is a whole number."));
        return null;
    }

    private static string? Number(int? value) => value?.ToString(CultureInfo.InvariantCulture);

    private static List<string> List(string? text) =>
        (text ?? "").Split([',', ' ', ';', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    // A select or box left as it is, or emptied where the API cannot clear the field, leaves it.
    private static string? Picked(string? text, string? current) =>
        NewLinkForm.Blank(text) is { } value && value != current ? value : null;

    // Null leaves the field; "" removes it (the API's meaning for these fields).
    private static string? Changed(string? text, string? current) =>
        NewLinkForm.Blank(text) is { } value ? (value == current ? null : value) : (current is null ? null : "");

    // A schema travels as JSON text, which the API accepts too, so the validator parses and bounds it the same way;
    // an emptied box removes the schema.
    private static Patch<JsonElement> Schema(string? text, string? current) =>
        NewLinkForm.Blank(text) is { } value ? new(true, JsonSerializer.SerializeToElement(value))
            : current is null ? default : new(true, default);
}
