using System.Collections.Frozen;
using System.Globalization;
using X402Serverless.Core.Links;

namespace X402Serverless.Core.Usage;

/// <summary>
/// Usage kinds that count money and who paid it, kept beside the call counters so revenue, errors and the
/// per-payer breakdown are running daily aggregates (one more counter in the batch the recorder already flushes)
/// rather than a scan of the payments. Revenue counters count USD micros, payer counters calls and micros.
/// </summary>
public static class ChargeKinds
{
    /// <summary>"revenue:x402": micros charged on a link per payment type.</summary>
    public const string RevenuePrefix = "revenue:";

    /// <summary>"paid:x402": paid calls per payment type (x402's against its 402s is the conversion).</summary>
    public const string PaidPrefix = "paid:";

    /// <summary>"error:timeout": a call the upstream failed (nothing charged), by why.</summary>
    public const string ErrorPrefix = "error:";

    /// <summary>"payer_calls:w:0xab…": paid calls per payer.</summary>
    public const string PayerCallsPrefix = "payer_calls:";

    /// <summary>"payer_usd:w:0xab…": micros paid per payer.</summary>
    public const string PayerUsdPrefix = "payer_usd:";

    public const string Timeout = "timeout";

    public const string Unreachable = "unreachable";

    /// <summary>The upstream answered with a status the link's charge policy does not charge (e.g. a 5xx).</summary>
    public const string UpstreamStatus = "upstream_status";

    private static readonly FrozenDictionary<string, string> Revenues =
        PaymentTypes.All.ToFrozenDictionary(t => t, t => RevenuePrefix + t, StringComparer.Ordinal);

    private static readonly FrozenDictionary<string, string> PaidCalls =
        PaymentTypes.All.ToFrozenDictionary(t => t, t => PaidPrefix + t, StringComparer.Ordinal);

    /// <summary>The paid-calls counter of a payment type.</summary>
    public static string Paid(string paymentType) => PaidCalls.TryGetValue(paymentType, out var kind) ? kind : PaidPrefix + paymentType;

    /// <summary>The revenue counter of a payment type, made once so the paid path formats nothing.</summary>
    public static string Revenue(string paymentType) => Revenues.TryGetValue(paymentType, out var kind) ? kind : RevenuePrefix + paymentType;

    public static string Error(string reason) => ErrorPrefix + reason;

    public static string PayerCalls(PayerKey payer) => PayerCallsPrefix + payer;

    public static string PayerUsd(PayerKey payer) => PayerUsdPrefix + payer;
}

/// <summary>
/// Who paid a call: a wallet (x402; marked when it paid itself, i.e. the payer is the link's payTo) or a payer
/// account (credits, allowance). Written "w:0xab…", "ws:0xab…" (self-payment) or "p:payer_id".
/// </summary>
public sealed record PayerKey(string Kind, string Id)
{
    public const string Wallet = "w";
    public const string SelfWallet = "ws";
    public const string Account = "p";

    /// <summary>An x402 payer, its address lower-cased so a checksummed and a plain spelling count together.</summary>
    public static PayerKey OfWallet(string payer, string payTo) =>
        new(string.Equals(payer, payTo, StringComparison.OrdinalIgnoreCase) ? SelfWallet : Wallet, payer.ToLowerInvariant());

    public static PayerKey OfAccount(string payerId) => new(Account, payerId);

    public bool IsWallet => Kind is Wallet or SelfWallet;

    public bool IsSelfPayment => Kind == SelfWallet;

    public static bool TryParse(string text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out PayerKey? key)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        key = colon > 0 && text[..colon] is Wallet or SelfWallet or Account && colon < text.Length - 1 ? new PayerKey(text[..colon], text[(colon + 1)..]) : null;
        return key is not null;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Kind}:{Id}");
}
