using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using X402Serverless.Core.Crypto;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Signup;

/// <summary>One EIP-4361 message for viem to build and sign (tests/peers/siwe-sign.mjs); Address overrides the key's own.</summary>
internal sealed record SiweSpec(
    string PrivateKey, string Domain, string Uri, long ChainId, string Nonce, DateTimeOffset IssuedAt,
    DateTimeOffset? ExpirationTime = null, DateTimeOffset? NotBefore = null, string? Address = null, string? Statement = null);

internal sealed record SignedSiwe(string Message, string Signature, string Address);

/// <summary>Sign-up as a client does it: a nonce from the gateway, a message viem builds and signs with the wallet, the post.</summary>
internal static class SiweSigner
{
    public const long BaseSepolia = 84532;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    /// <summary>A fresh wallet key (32 random bytes are a valid secp256k1 key but for odds of 2^-128).</summary>
    public static string NewKey() => Hex.Encode(RandomNumberGenerator.GetBytes(32));

    public static async Task<IReadOnlyList<SignedSiwe>> SignAsync(params SiweSpec[] specs)
    {
        var input = JsonSerializer.Serialize(specs.Select(s => new
        {
            privateKey = s.PrivateKey, domain = s.Domain, uri = s.Uri, chainId = s.ChainId, nonce = s.Nonce,
            issuedAt = s.IssuedAt.ToString("O"), expirationTime = s.ExpirationTime?.ToString("O"), notBefore = s.NotBefore?.ToString("O"),
            address = s.Address, statement = s.Statement,
        }), Json);
        var output = await PeerProcess.RunNodeWithInputAsync(null, input, "siwe-sign.mjs");
        return JsonSerializer.Deserialize<List<SignedSiwe>>(output, Json)!;
    }

    /// <summary>POST /api/signup/nonce?role=…: {nonce, domain, uri, chainIds, statement, …}.</summary>
    public static async Task<JsonElement> NonceAsync(HttpClient client, string role = "provider")
    {
        using var response = await client.PostAsync($"/api/signup/nonce?role={role}", null);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode, $"nonce: {(int)response.StatusCode} {body}");
        return body;
    }

    /// <summary>A spec for a message exactly as the nonce response asks, issued now by <paramref name="now"/>.</summary>
    public static SiweSpec For(JsonElement nonce, string key, DateTimeOffset now) => new(
        key, nonce.GetProperty("domain").GetString()!, nonce.GetProperty("uri").GetString()!, BaseSepolia, nonce.GetProperty("nonce").GetString()!, now,
        Statement: nonce.GetProperty("statement").GetString());

    public static async Task<SignedSiwe> SignFreshAsync(HttpClient client, string key, string role = "provider") =>
        (await SignAsync(For(await NonceAsync(client, role), key, DateTimeOffset.UtcNow)))[0];

    public static Task<HttpResponseMessage> PostAsync(HttpClient client, string role, SignedSiwe signed, string? name = null) =>
        client.PostAsJsonAsync($"/api/signup/{role}", name is null
            ? new Dictionary<string, string> { ["message"] = signed.Message, ["signature"] = signed.Signature }
            : new Dictionary<string, string> { ["message"] = signed.Message, ["signature"] = signed.Signature, ["name"] = name });
}
