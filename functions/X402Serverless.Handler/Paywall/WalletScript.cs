using System.Security.Cryptography;

namespace X402Serverless.Handler.Paywall;

/// <summary>
/// The paywall's wallet script, embedded in the handler: served from the gateway's own origin (no CDN), its URL
/// versioned by its content so browsers may keep it for a year and still never run a stale copy.
/// </summary>
internal static class WalletScript
{
    public const string Path = "/paywall/wallet.js";

    public static readonly byte[] Bytes = Load();

    public static readonly string Version = Convert.ToHexStringLower(SHA256.HashData(Bytes))[..16];

    private static byte[] Load()
    {
        using var stream = typeof(WalletScript).Assembly.GetManifestResourceStream("X402Serverless.Handler.Paywall.wallet.js")
            ?? throw new InvalidOperationException("The wallet script is not embedded in the handler.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
