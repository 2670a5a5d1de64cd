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

    private List<string> Accepts() => CheckedTypes(AcceptX402, AcceptCredits, AcceptAllowance, AcceptTransfer);

    /// <summary>The payment types whose boxes are ticked, in the API's order (the new and the edit form alike).</summary>
    internal static List<string> CheckedTypes(bool x402, bool credits, bool allowance, bool transfer) =>
        [.. new[] { (x402, PaymentTypes.X402), (credits, PaymentTypes.Credits), (allowance, PaymentTypes.Allowance), (transfer, PaymentTypes.Transfer) }
            .Where(t => t.Item1).Select(t => t.Item2)];

    internal static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}
