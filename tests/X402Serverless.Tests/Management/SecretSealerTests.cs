using System.Security.Cryptography;
using X402Serverless.Handler.Secrets;

namespace X402Serverless.Tests.Management;

public sealed class SecretSealerTests
{
    private static readonly string Key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    [Fact]
    public void Any_instance_with_the_key_opens_what_another_sealed_and_nothing_else_does()
    {
        var sealedText = new AesGcmSecretSealer(Key).Seal("""{"X-Api-Key":"sk_live_123"}""");
        Assert.DoesNotContain("sk_live_123", sealedText, StringComparison.Ordinal);
        Assert.Equal("""{"X-Api-Key":"sk_live_123"}""", new AesGcmSecretSealer(Key).Unseal(sealedText));

        var other = new AesGcmSecretSealer(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        Assert.ThrowsAny<CryptographicException>(() => other.Unseal(sealedText));
        var tampered = sealedText[..^4] + (sealedText[^4] == 'A' ? "B" : "A") + sealedText[^3..];
        Assert.ThrowsAny<CryptographicException>(() => new AesGcmSecretSealer(Key).Unseal(tampered));
    }

    [Fact]
    public void A_key_of_the_wrong_size_is_refused_at_start() =>
        Assert.Throws<ArgumentException>(() => new AesGcmSecretSealer(Convert.ToBase64String(new byte[16])));
}
