using System.Text.Json;
using X402Serverless.Core.Json;
using X402Serverless.Core.Links;
using X402Serverless.Core.Money;

namespace X402Serverless.Handler.ProviderConsole;

/// <summary>
/// The new-link form as posted. It only maps text fields onto a <see cref="LinkDraft"/>; checking is the shared
/// validator's job, so the console and the API accept exactly the same links.
/// </summary>
internal sealed class NewLinkForm
{
    public string? Name { get; set; }

    public string? Description { get; set; }

    public string? Upstream { get; set; }

    public string? Price { get; set; }

    public string? PayTo { get; set; }

    /// <summary>CAIP-2 ids separated by commas or spaces; empty takes the deployment's defaults.</summary>
    public string? Networks { get; set; }

    public bool AcceptX402 { get; set; }

    public bool AcceptCredits { get; set; }

    public bool AcceptAllowance { get; set; }

    public bool AcceptTransfer { get; set; }

    public string Settlement { get; set; } = Core.Payments.SettlementModes.Sync;

    public string KycLevel { get; set; } = Core.Kyc.KycLevels.None;

    public LinkDraft ToDraft() => new()
    {
        Name = Blank(Name),
        Description = Blank(Description),
        Upstream = Blank(Upstream),
        Price = Blank(Price) is { } price ? UsdInput.Of(price) : null,
        PayTo = Blank(PayTo),
        Networks = Blank(Networks)?.Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
        Accepts = Accepts(),
        Settlement = Blank(Settlement),
        KycLevel = Blank(KycLevel),
    };

    private List<string> Accepts()
    {
        var accepts = new List<string>();
        if (AcceptX402)
        {
            accepts.Add(PaymentTypes.X402);
        }
        if (AcceptCredits)
        {
            accepts.Add(PaymentTypes.Credits);
        }
        if (AcceptAllowance)
        {
            accepts.Add(PaymentTypes.Allowance);
        }
        if (AcceptTransfer)
        {
            accepts.Add(PaymentTypes.Transfer);
        }
        return accepts;
    }

    internal static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}

/// <summary>
/// The edit form on a link's page: its name, price and listing (listed, description, tags, category, example request,
/// input and output schemas). Unchanged fields are left as they are; an emptied optional field is removed. Checking
/// is the shared validator's, as for the API.
/// </summary>
internal sealed class EditLinkForm
{
    public string? Name { get; set; }

    public string? Price { get; set; }

    public string? Description { get; set; }

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
        Listed = link.Listing.Listed,
        Tags = string.Join(", ", link.Listing.Tags),
        Category = link.Listing.Category,
        ExampleRequest = link.Listing.ExampleRequest,
        InputSchema = link.Listing.InputSchema is { } input ? Listings.CataloguePages.Pretty(input) : null,
        OutputSchema = link.Listing.OutputSchema is { } output ? Listings.CataloguePages.Pretty(output) : null,
    };

    public LinkDraft ToDraft(PaidLink link)
    {
        var tags = (Tags ?? "").Split([',', ' ', ';', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(t => t.ToLowerInvariant()).Distinct().ToList();
        return new()
        {
            Name = NewLinkForm.Blank(Name) is { } name && name != link.Name ? name : null,
            // An emptied price is sent as "" so the validator reports it as required instead of ignoring it.
            Price = NewLinkForm.Blank(Price) is { } price ? (price == link.Price.ToString() ? null : UsdInput.Of(price)) : UsdInput.Of(""),
            Description = Changed(Description, link.Description),
            Listed = Listed == link.Listing.Listed ? null : Listed,
            Tags = tags.SequenceEqual(link.Listing.Tags) ? null : tags,
            Category = Changed(Category, link.Listing.Category),
            ExampleRequest = Changed(ExampleRequest, link.Listing.ExampleRequest),
            InputSchema = Schema(InputSchema, link.Listing.InputSchema),
            OutputSchema = Schema(OutputSchema, link.Listing.OutputSchema),
        };
    }

    // Null leaves the field; "" removes it (the API's meaning for these fields).
    private static string? Changed(string? text, string? current) =>
        NewLinkForm.Blank(text) is { } value ? (value == current ? null : value) : (current is null ? null : "");

    // A schema travels as JSON text, which the API accepts too, so the validator parses and bounds it the same way;
    // an emptied box removes the schema.
    private static Patch<JsonElement> Schema(string? text, string? current) =>
        NewLinkForm.Blank(text) is { } value ? new(true, JsonSerializer.SerializeToElement(value))
            : current is null ? default : new(true, default);
}
