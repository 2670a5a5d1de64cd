using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Signup;

namespace X402Serverless.Tests.Signup;

public sealed class SiweParserTests
{
    private const string Address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

    // As viem's createSiweMessage writes it (a statement, then every optional field).
    private const string Full = """
        https://gw.example.com:8443 wants you to sign in with your Ethereum account:
        0x70997970C51812dc3A010C7d01b50e0d17dc79C8

        Sign in to the x402 gateway.

        URI: https://gw.example.com:8443/console
        Version: 1
        Chain ID: 84532
        Nonce: abcdef0123456789
        Issued At: 2026-11-26T21:00:00.000Z
        Expiration Time: 2026-11-26T21:10:00.000Z
        Not Before: 2026-11-26T20:59:00+00:00
        Request ID: req-1
        Resources:
        - https://gw.example.com/a
        - ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq
        """;

    [Fact]
    public void Every_field_of_a_full_message_is_read()
    {
        var (m, error) = SiweParser.Parse(Full.ReplaceLineEndings("\n"));
        Assert.Null(error);
        Assert.NotNull(m);
        Assert.Equal("https", m.Scheme);
        Assert.Equal("gw.example.com:8443", m.Domain);
        Assert.Equal(EvmAddress.Parse(Address), m.Address);
        Assert.Equal("Sign in to the x402 gateway.", m.Statement);
        Assert.Equal(new Uri("https://gw.example.com:8443/console"), m.Uri);
        Assert.Equal(84532, m.ChainId);
        Assert.Equal("abcdef0123456789", m.Nonce);
        Assert.Equal(new DateTimeOffset(2026, 11, 26, 21, 0, 0, TimeSpan.Zero), m.IssuedAt);
        Assert.Equal(new DateTimeOffset(2026, 11, 26, 21, 10, 0, TimeSpan.Zero), m.ExpirationTime);
        Assert.Equal(new DateTimeOffset(2026, 11, 26, 20, 59, 0, TimeSpan.Zero), m.NotBefore);
        Assert.Equal("req-1", m.RequestId);
        Assert.Equal(2, m.Resources.Count);
    }

    [Theory]
    // viem's form without a statement, and the EIP's ABNF form (a second empty line).
    [InlineData("127.0.0.1:7071 wants you to sign in with your Ethereum account:\n" + Address + "\n\nURI: http://127.0.0.1:7071\nVersion: 1\nChain ID: 1\nNonce: 12345678\nIssued At: 2026-11-26T21:00:00Z")]
    [InlineData("localhost wants you to sign in with your Ethereum account:\n" + Address + "\n\n\nURI: http://localhost\nVersion: 1\nChain ID: 1\nNonce: 12345678\nIssued At: 2026-11-26T21:00:00Z")]
    public void A_message_without_a_statement_is_read_in_either_form(string text)
    {
        var (m, error) = SiweParser.Parse(text);
        Assert.Null(error);
        Assert.Null(m!.Statement);
        Assert.Null(m.ExpirationTime);
    }

    public static TheoryData<string, string> Malformed()
    {
        var good = Full.ReplaceLineEndings("\n");
        return new TheoryData<string, string>
        {
            { good.Replace("\n", "\r\n"), "LF only" },
            { good + "\n", "trailing empty line" },
            { good.Replace(Address, Address.ToLowerInvariant()), "address not checksummed" },
            { good.Replace(Address, "0x70997970C51812dc3A010C7d01b50e0d17dc79C"), "short address" },
            { good.Replace("Version: 1", "Version: 2"), "version 2" },
            { good.Replace("Chain ID: 84532", "Chain ID: 0x14a34"), "hex chain id" },
            { good.Replace("Chain ID: 84532", "Chain ID: 084532"), "leading zero" },
            { good.Replace("Nonce: abcdef0123456789", "Nonce: abc"), "short nonce" },
            { good.Replace("Nonce: abcdef0123456789", "Nonce: abcdef01-3456789"), "nonce not alphanumeric" },
            { good.Replace("Issued At: 2026-11-26T21:00:00.000Z", "Issued At: 26/11/2026"), "date format" },
            { good.Replace("Issued At: 2026-11-26T21:00:00.000Z", "Issued At: 2026-11-26T21:00:00"), "no offset" },
            { good.Replace("Expiration Time: 2026-11-26T21:10:00.000Z\nNot Before: 2026-11-26T20:59:00+00:00",
                "Not Before: 2026-11-26T20:59:00+00:00\nExpiration Time: 2026-11-26T21:10:00.000Z"), "fields out of order" },
            { good.Replace("Request ID: req-1", "Request ID: req-1\nRequest ID: req-2"), "field twice" },
            { good.Replace("URI: https://gw.example.com:8443/console", "URI: /console"), "relative URI" },
            { good.Replace("https://gw.example.com:8443 wants", "evil.com/path wants"), "domain with a path" },
            { good.Replace("https://gw.example.com:8443 wants", "user@gw.example.com wants"), "userinfo" },
            { good.Replace(" wants you to sign in", " asks you to sign in"), "preamble" },
            { good.Replace("Sign in to the x402 gateway.\n\n", "Sign in\u0007 to the x402 gateway.\n\n"), "control character" },
            { good.Replace("Sign in to the x402 gateway.\n\n", "Sign in.\nSecond line\n\n"), "statement on two lines" },
            { good.Replace("Resources:\n", "Resources:\n- not a uri\n"), "bad resource" },
            { good + "\nExtra: field", "unknown field" },
            { "", "empty" },
        };
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_messages_are_refused_with_a_reason(string text, string because)
    {
        var (m, error) = SiweParser.Parse(text);
        Assert.True(m is null, because);
        Assert.False(string.IsNullOrEmpty(error), because);
    }

    [Fact]
    public void A_message_over_the_bound_is_refused_before_it_is_read()
    {
        var huge = Full.ReplaceLineEndings("\n").Replace("Sign in to the x402 gateway.", new string('a', SiweParser.MaxBytes));
        Assert.Contains("longer than", SiweParser.Parse(huge).Error);
    }

    [Fact]
    public void Personal_sign_recovers_the_signer_and_viems_signature_of_this_message()
    {
        // Signed by viem's signMessage with anvil's second development key (tests/peers/siwe-sign.mjs).
        const string message = "127.0.0.1:7071 wants you to sign in with your Ethereum account:\n0x70997970C51812dc3A010C7d01b50e0d17dc79C8\n\nSign in to the x402 gateway.\n\nURI: http://127.0.0.1:7071\nVersion: 1\nChain ID: 84532\nNonce: abcdef0123456789\nIssued At: 2026-11-26T21:00:00.000Z";
        const string viem = "0x1a629d32c8edadd7faf0cc63ef2a9912093548538e343b1cc62e52c51d017d772c788170294d18c15bbd067b4c5bf35941c7da7ac9b907799632c59706a1a2121c";
        var key = Hex.Decode("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");

        Assert.Equal(EvmAddress.Parse(Address), PersonalSign.Recover(message, viem));
        Assert.Equal(viem, PersonalSign.Sign(message, key));
        Assert.NotEqual(EvmAddress.Parse(Address), PersonalSign.Recover(message + " ", viem));
        Assert.Null(PersonalSign.Recover(message, viem[..^2]));
        Assert.Null(PersonalSign.Recover(message, "not hex"));
    }
}
