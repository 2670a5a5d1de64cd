using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;

namespace X402Serverless.Core.Facilitation;

/// <summary>
/// The operator's key that pays settlement gas. It never leaves this object: ToString shows the address only,
/// so a stray log line cannot print the key.
/// </summary>
public sealed class GasWallet
{
    private readonly byte[] _key;

    public GasWallet(string privateKeyHex)
    {
        if (!Hex.TryDecode(privateKeyHex.Trim(), out var key) || key.Length != 32)
        {
            throw new ArgumentException("The gas wallet key must be 32 bytes of 0x hex.", nameof(privateKeyHex));
        }
        _key = key;
        Address = Secp256k1.AddressOf(key);
    }

    public EvmAddress Address { get; }

    public (byte[] Raw, string Hash) Sign(Eip1559Transaction transaction) => transaction.Sign(_key);

    public override string ToString() => $"GasWallet({Address})";
}
