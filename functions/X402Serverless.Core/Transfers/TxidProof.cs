using System.Text.Json;
using X402Serverless.Core.Evm;

namespace X402Serverless.Core.Transfers;

/// <summary>
/// What a payer presents for an ordinary transfer (x402 TXID draft, v2 shape): the transaction hash, the wallet
/// that sent it, the resource and the requirement it pays for, and that wallet's EIP-712 signature over all four.
/// </summary>
public sealed record TxidProof(
    string TxRef,
    EvmAddress From,
    byte[] Signature,
    string ResourceUrl,
    string ResourceDescription,
    string ResourceMimeType,
    JsonElement Accepted,
    string Scheme,
    string Network,
    string Amount,
    string Asset,
    EvmAddress PayTo,
    long MaxTimeoutSeconds)
{
    public const string PayloadType = "txid";
    public const string Algorithm = "ES256K";
    public const string Format = "eip712";

    /// <summary>The hash as the replay record keys it: lower-case hex.</summary>
    public string TxHash => TxRef.ToLowerInvariant();
}
