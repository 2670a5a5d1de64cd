using System.Text.Json;
using X402Serverless.Core.Evm;

namespace X402Serverless.Core.Protocol;

/// <summary>
/// A payment header after decoding and shape checks. <see cref="Accepted"/> is the v2 echo of the chosen
/// requirement; <see cref="Raw"/> is the payload exactly as the client sent it (it goes to the facilitator verbatim).
/// A Permit2 payment keeps its own message in <see cref="Permit2"/>, and <see cref="Authorization"/> holds the same
/// payment in EIP-3009's shape (payer, recipient, amount, window, nonce) for everything that reads only those.
/// </summary>
public sealed record DecodedPayment(
    int Version,
    string Scheme,
    string Network,
    TransferAuthorization Authorization,
    byte[] Signature,
    JsonElement? Accepted,
    JsonElement Raw)
{
    public Permit2Authorization? Permit2 { get; init; }
}
