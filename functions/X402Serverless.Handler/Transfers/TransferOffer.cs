using System.Text.Json.Nodes;
using X402Serverless.Core.Protocol;
using X402Serverless.Core.Transfers;

namespace X402Serverless.Handler.Transfers;

/// <summary>
/// The 402's "txid" extension: per network the link is paid on, the token, payTo and amount an ordinary transfer
/// must carry, how many confirmations it needs and how old it may be, and how to sign the proof (x402 TXID draft).
/// The proof goes in PAYMENT-SIGNATURE with <c>accepted</c> equal to that network's entry in <c>accepts</c>.
/// </summary>
internal static class TransferOffer
{
    public const string ExtensionKey = "txid";

    public static JsonObject Declare(IReadOnlyList<PaymentRequirement> requirements, TransferOptions options)
    {
        var accepts = new JsonArray();
        var native = false;
        foreach (var r in requirements)
        {
            accepts.Add(new JsonObject
            {
                ["network"] = r.Network.Id,
                ["chainId"] = r.Network.ChainId,
                ["asset"] = r.Network.Asset.ToString(),
                ["payTo"] = r.PayTo.ToString(),
                ["amount"] = r.Amount.ToString(),
                ["minConfirmations"] = options.ConfirmationsFor(r.Network.ChainId),
                ["maxAgeSeconds"] = options.MaxAgeSeconds,
            });
            if (options.NativeRateFor(r.Network.ChainId) is { } rate)
            {
                // The native coin: no accepts entry to copy, so the entry carries the "accepted" its proof signs.
                var wei = NativePrice.Wei(r.Amount, r.Network.Decimals, rate);
                accepts.Add(new JsonObject
                {
                    ["network"] = r.Network.Id,
                    ["chainId"] = r.Network.ChainId,
                    ["asset"] = NativePrice.Asset,
                    ["payTo"] = r.PayTo.ToString(),
                    ["amount"] = wei.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["minConfirmations"] = options.ConfirmationsFor(r.Network.ChainId),
                    ["maxAgeSeconds"] = options.MaxAgeSeconds,
                    ["accepted"] = NativePrice.Accepted(r, wei),
                });
                native = true;
            }
        }
        return new JsonObject
        {
            ["info"] = new JsonObject
            {
                ["type"] = TxidProof.PayloadType,
                ["alg"] = TxidProof.Algorithm,
                ["format"] = TxidProof.Format,
                ["domain"] = new JsonObject { ["name"] = PaymentProofHasher.DomainName, ["version"] = PaymentProofHasher.DomainVersion },
                ["native"] = native,
                ["accepts"] = accepts,
            },
        };
    }
}
