using System.Globalization;
using System.Security.Cryptography;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Passes;
using X402Serverless.Core.Signup;

namespace X402Serverless.Tests.Passes;

/// <summary>
/// Sign-in-with-x proofs built and signed here, field by field, for the cases a wallet's client would never send
/// (expired, for another host, signed by someone else). The official client's proofs are tested end to end.
/// </summary>
internal static class SiwxProofs
{
    public static SiwxPayload For(byte[] key, string url, DateTimeOffset issuedAt, long chainId = 84532) => new()
    {
        Domain = new Uri(url).Authority,
        Address = Secp256k1.AddressOf(key).ToString(),
        Statement = "Sign in to use your pass for this link.",
        Uri = url,
        Version = "1",
        ChainId = "eip155:" + chainId.ToString(CultureInfo.InvariantCulture),
        Type = "eip191",
        Nonce = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
        IssuedAt = Time(issuedAt),
        ExpirationTime = Time(issuedAt.AddMinutes(5)),
        Resources = [url],
        Signature = "",
    };

    /// <summary>The payload signed by <paramref name="key"/> (personal_sign over its EIP-4361 text), as the header carries it.</summary>
    public static string Signed(SiwxPayload payload, byte[] key)
    {
        var chainId = long.Parse(payload.ChainId.AsSpan(7), CultureInfo.InvariantCulture);
        return (payload with { Signature = PersonalSign.Sign(SiwxMessageText.For(payload, chainId)!, key) }).Encode();
    }

    public static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
