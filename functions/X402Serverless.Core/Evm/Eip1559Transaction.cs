using System.Numerics;
using Nethereum.Model;
using X402Serverless.Core.Crypto;

namespace X402Serverless.Core.Evm;

/// <summary>
/// A type-2 (EIP-1559) transaction, signed locally: the raw bytes for eth_sendRawTransaction and their hash.
/// Encoding is Nethereum's (RLP, the typed envelope), the signature libsecp256k1's; the pinned vector in the tests
/// holds it to the bytes the hand-written encoder produced, and Nethereum's own signer must agree byte for byte.
/// </summary>
public sealed record Eip1559Transaction(
    long ChainId,
    BigInteger Nonce,
    BigInteger MaxPriorityFeePerGas,
    BigInteger MaxFeePerGas,
    BigInteger GasLimit,
    EvmAddress To,
    BigInteger Value,
    byte[] Data)
{
    public (byte[] Raw, string Hash) Sign(ReadOnlySpan<byte> privateKey)
    {
        var transaction = new Transaction1559(ChainId, Nonce, MaxPriorityFeePerGas, MaxFeePerGas, GasLimit, To.ToLowerHex(), Value, Hex.Encode(Data), []);
        // Nethereum encodes; the signature is libsecp256k1's (NBitcoin), as on the verify path: Nethereum's own signer
        // (BouncyCastle) costs milliseconds and a heap of big integers per transaction, on every settlement.
        var signature = Secp256k1.Sign(Keccak256.Hash(transaction.GetRLPEncodedRaw()), privateKey);
        var yParity = signature[64] - 27;
        transaction.SetSignature(new Signature(signature[..32], signature[32..64], yParity == 0 ? [] : [(byte)yParity]));
        var raw = transaction.GetRLPEncoded();
        return (raw, Hex.Encode(Keccak256.Hash(raw)));
    }
}
