using System.Text;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;

namespace X402Serverless.Core.Signup;

/// <summary>EIP-191 version 0x45 ("personal_sign"): what a wallet signs when asked to sign a text message.</summary>
public static class PersonalSign
{
    /// <summary>keccak256("\x19Ethereum Signed Message:\n" + byte length + message).</summary>
    public static byte[] Hash(string message)
    {
        var body = Encoding.UTF8.GetBytes(message);
        var prefix = Encoding.ASCII.GetBytes("\u0019Ethereum Signed Message:\n" + body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return Keccak256.Hash(prefix, body);
    }

    /// <summary>The address that signed <paramref name="message"/>, or null when the signature is not 65 canonical bytes of hex.</summary>
    public static EvmAddress? Recover(string message, string signature) =>
        Hex.TryDecode(signature, out var bytes) && bytes.Length == 65 ? Secp256k1.Recover(Hash(message), bytes) : null;

    /// <summary>Signs like a wallet's personal_sign (tests and tools; the gateway only verifies).</summary>
    public static string Sign(string message, ReadOnlySpan<byte> privateKey) => Hex.Encode(Secp256k1.Sign(Hash(message), privateKey));
}
