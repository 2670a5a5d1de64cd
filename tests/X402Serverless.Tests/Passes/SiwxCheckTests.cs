using System.Security.Cryptography;
using System.Text;
using X402Serverless.Core.Passes;

namespace X402Serverless.Tests.Passes;

/// <summary>The proof's reading and checks on their own: hostile shapes are refused, never thrown.</summary>
public sealed class SiwxCheckTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 1, 0, 0, TimeSpan.Zero);
    private static readonly Uri Origin = new("https://links.example");
    private const string Url = "https://links.example/l/lnk_a/forecast";

    [Theory]
    [InlineData("")]
    [InlineData("not base64!")]
    [InlineData("bnVsbA==")] // null
    [InlineData("WzFd")] // [1]
    [InlineData("eyJkb21haW4iOjF9")] // {"domain":1}
    public void A_header_that_is_not_a_proof_is_refused(string header) => Assert.Null(SiwxPayload.Parse(header));

    [Fact]
    public void An_optional_field_of_the_wrong_type_or_an_oversized_header_is_refused()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var json = Encoding.UTF8.GetString(Convert.FromBase64String(SiwxProofs.Signed(SiwxProofs.For(key, Url, Now), key)));
        Assert.NotNull(SiwxPayload.Parse(Convert.ToBase64String(Encoding.UTF8.GetBytes(json))));
        Assert.Null(SiwxPayload.Parse(Convert.ToBase64String(Encoding.UTF8.GetBytes(json.Replace("\"statement\":\"", "\"statement\":1,\"x\":\"", StringComparison.Ordinal)))));
        Assert.Null(SiwxPayload.Parse(Convert.ToBase64String(Encoding.UTF8.GetBytes(json.Replace("\"resources\":[", "\"resources\":[1,", StringComparison.Ordinal)))));
        Assert.Null(SiwxPayload.Parse(new string('A', SiwxPayload.MaxHeaderLength + 4)));
    }

    [Fact]
    public void A_signed_proof_for_this_origin_and_link_names_its_wallet_and_a_line_break_in_a_field_is_refused()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var proof = SiwxPayload.Parse(SiwxProofs.Signed(SiwxProofs.For(key, Url, Now), key))!;
        var ok = SiwxCheck.Run(proof, Origin, "/l/lnk_a", [84532], Now);
        Assert.Equal(Core.Crypto.Secp256k1.AddressOf(key), ok.Wallet);
        Assert.Equal(Now.AddMinutes(5), ok.KeepNonceUntil);

        Assert.Equal("invalid_siwx_uri_mismatch", SiwxCheck.Run(proof, Origin, "/l/lnk_ab", [84532], Now).Code);
        Assert.Equal("invalid_siwx_domain_mismatch", SiwxCheck.Run(proof, new Uri("https://other.example"), "/l/lnk_a", [84532], Now).Code);
        Assert.Equal("invalid_siwx_issued_at_in_future", SiwxCheck.Run(proof, Origin, "/l/lnk_a", [84532], Now.AddMinutes(-1)).Code);
        var injected = proof with { Statement = "hi\nURI: https://evil.example" };
        Assert.Equal("invalid_siwx_message", SiwxCheck.Run(injected, Origin, "/l/lnk_a", [84532], Now).Code);
        Assert.Equal("invalid_siwx_malformed_signature", SiwxCheck.Run(proof with { Signature = "0x1234" }, Origin, "/l/lnk_a", [84532], Now).Code);
        Assert.Equal("invalid_siwx_unsupported_chain", SiwxCheck.Run(proof with { ChainId = "solana:abc" }, Origin, "/l/lnk_a", [84532], Now).Code);
    }
}
