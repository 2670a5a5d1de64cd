using X402Serverless.Core.Money;
using X402Serverless.Handler.Management;

namespace X402Serverless.Handler.ProviderConsole;

/// <summary>
/// The OpenAPI import form as posted. Like the new-link form it only maps text onto the API's request; the importer
/// checks it, so the console and POST /api/links/import import exactly the same links.
/// </summary>
internal sealed class LinkImportForm
{
    public string? Document { get; set; }

    public string? DocumentUrl { get; set; }

    public string? UpstreamBase { get; set; }

    public string? DefaultPrice { get; set; }

    public string? PayTo { get; set; }

    public string? Networks { get; set; }

    public bool Listed { get; set; }

    public bool SkipInvalid { get; set; }

    public bool DryRun { get; set; }

    public LinkImportRequest ToRequest() => new()
    {
        Document = NewLinkForm.Blank(Document),
        DocumentUrl = NewLinkForm.Blank(DocumentUrl),
        UpstreamBase = NewLinkForm.Blank(UpstreamBase),
        // An empty price is sent as "" so each operation reports it as required rather than silently free.
        DefaultPrice = UsdInput.Of(NewLinkForm.Blank(DefaultPrice) ?? ""),
        PayTo = NewLinkForm.Blank(PayTo),
        Networks = NewLinkForm.Blank(Networks)?.Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
        Listed = Listed,
        SkipInvalid = SkipInvalid,
        DryRun = DryRun,
    };
}
