using System.Security.Cryptography;
using System.Text;
using X402Serverless.Core.Ports;

namespace X402Serverless.Handler.Secrets;

/// <summary>
/// Seals provider secrets with AES-256-GCM under one key from configuration (a Key Vault secret in Azure), so every
/// instance of a scaled-out deployment can open what any other sealed. Format: "v1:" base64(nonce ‖ tag ‖ ciphertext).
/// </summary>
internal sealed class AesGcmSecretSealer : ISecretSealer
{
    private const string Version = "v1:";
    private readonly byte[] _key;

    public AesGcmSecretSealer(string base64Key)
    {
        _key = Convert.FromBase64String(base64Key);
        if (_key.Length != 32)
        {
            throw new ArgumentException("The sealing key must be 32 bytes, base64.", nameof(base64Key));
        }
    }

    public string Seal(string plaintext)
    {
        var nonce = RandomNumberGenerator.GetBytes(12);
        var plain = Encoding.UTF8.GetBytes(plaintext);
        var cipher = new byte[plain.Length];
        var tag = new byte[16];
        using var aes = new AesGcm(_key, 16);
        aes.Encrypt(nonce, plain, cipher, tag);
        return Version + Convert.ToBase64String([.. nonce, .. tag, .. cipher]);
    }

    public string Unseal(string sealedText)
    {
        if (!sealedText.StartsWith(Version, StringComparison.Ordinal))
        {
            throw new CryptographicException("Unknown sealed-secret format.");
        }
        var bytes = Convert.FromBase64String(sealedText[Version.Length..]);
        var plain = new byte[bytes.Length - 28];
        using var aes = new AesGcm(_key, 16);
        aes.Decrypt(bytes.AsSpan(0, 12), bytes.AsSpan(28), bytes.AsSpan(12, 16), plain);
        return Encoding.UTF8.GetString(plain);
    }
}
