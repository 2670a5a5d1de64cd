using System.Numerics;
using X402Serverless.Core.Crypto;

namespace X402Serverless.Core.Evm;

/// <summary>A type-2 (EIP-1559) transaction, signed locally: the raw bytes for eth_sendRawTransaction and their hash.</summary>
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
        var fields = Fields();
        var signingHash = Keccak256.Hash([0x02, .. Rlp.List(fields)]);
        var signature = Secp256k1.Sign(signingHash, privateKey);
        var yParity = signature[64] - 27;
        var raw = (byte[])[0x02, .. Rlp.List(
        [
            .. fields,
            Rlp.Number(yParity),
            Rlp.Number(new BigInteger(signature.AsSpan(0, 32), isUnsigned: true, isBigEndian: true)),
            Rlp.Number(new BigInteger(signature.AsSpan(32, 32), isUnsigned: true, isBigEndian: true)),
        ])];
        return (raw, Hex.Encode(Keccak256.Hash(raw)));
    }

    private byte[][] Fields() =>
    [
        Rlp.Number(ChainId),
        Rlp.Number(Nonce),
        Rlp.Number(MaxPriorityFeePerGas),
        Rlp.Number(MaxFeePerGas),
        Rlp.Number(GasLimit),
        Rlp.Bytes(To.Bytes),
        Rlp.Number(Value),
        Rlp.Bytes(Data),
        Rlp.List(), // empty access list
    ];
}
