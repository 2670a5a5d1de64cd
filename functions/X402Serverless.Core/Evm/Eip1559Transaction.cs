using System.Numerics;
using System.Security.Cryptography;
using Nethereum.Model;
using Nethereum.Signer;
using X402Serverless.Core.Crypto;

namespace X402Serverless.Core.Evm;

/// <summary>
/// A type-2 (EIP-1559) transaction, signed locally: the raw bytes for eth_sendRawTransaction and their hash.
/// Encoding and signing are Nethereum's (RLP, the typed-envelope signing hash, y-parity); the pinned vector in
/// the tests holds it to the bytes the hand-written encoder produced.
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
        var key = privateKey.ToArray();
        try
        {
            var raw = Convert.FromHexString(new Transaction1559Signer().SignTransaction(key, transaction));
            return (raw, Hex.Encode(Keccak256.Hash(raw)));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key); // the copy Nethereum needed; the gas wallet's own stays put
        }
    }
}
