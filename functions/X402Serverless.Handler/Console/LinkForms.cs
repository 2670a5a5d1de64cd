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
