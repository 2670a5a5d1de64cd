using Microsoft.Extensions.Time.Testing;
using System.Security.Cryptography;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Networks;
using X402Serverless.Core.Protocol;
using X402Serverless.Tests.Support;
using X402Serverless.Core.Money;

namespace X402Serverless.Tests.Protocol;

/// <summary>Each verification rule on its own, at its boundary, with the clock injected.</summary>
public sealed class PaymentVerifierTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
    private static readonly EvmNetwork Network = new NetworkRegistry([]).All.Single(n => n.Id == "eip155:8453");
    private static readonly byte[] PayerKey = RandomNumberGenerator.GetBytes(32);
    private static readonly EvmAddress PayTo = EvmAddress.Parse("0x209693Bc6afc0C5328bA36FaF03C514EF312287C");
    private static readonly PaymentRequirement Requirement = new(Network, new TokenAmount(10_000), PayTo, 300);

    private readonly FakeTimeProvider _time = new(Now);

    private static DecodedPayment Payment(long? value = null, EvmAddress? to = null, long? validAfter = null, long? validBefore = null, byte[]? key = null, string scheme = "exact")
    {
        var auth = new TransferAuthorization(Secp256k1.AddressOf(PayerKey), to ?? PayTo, value ?? 10_000,
            validAfter ?? Now.ToUnixTimeSeconds() - 600, validBefore ?? Now.ToUnixTimeSeconds() + 300, RandomNumberGenerator.GetBytes(32));
        var signature = TransferAuthorizationHasher.Sign(Network.Domain, auth, key ?? PayerKey);
        return new DecodedPayment(2, scheme, Network.Id, auth, signature, null, default);
    }

    private VerificationResult Verify(DecodedPayment p) => new PaymentVerifier(_time).Verify(p, Requirement);

    [Fact]
    public void A_correct_payment_is_valid_and_names_its_payer()
    {
        var result = Verify(Payment());
        Assert.True(result.IsValid);
        Assert.Equal(Secp256k1.AddressOf(PayerKey), result.Payer);
    }

    [Theory]
    [InlineData(9_999)]
    [InlineData(10_001)]
    public void Value_must_equal_the_price_exactly(long value) =>
        Assert.Equal(ReasonCodes.Value, Verify(Payment(value: value)).Reason);

    [Fact]
    public void Recipient_must_be_the_links_pay_to() =>
        Assert.Equal(ReasonCodes.RecipientMismatch, Verify(Payment(to: Secp256k1.AddressOf(RandomNumberGenerator.GetBytes(32)))).Reason);

    [Fact]
    public void Valid_before_needs_a_six_second_buffer()
    {
        var t = Now.ToUnixTimeSeconds();
        Assert.True(Verify(Payment(validBefore: t + 6)).IsValid);
        Assert.Equal(ReasonCodes.ValidBefore, Verify(Payment(validBefore: t + 5)).Reason);
        Assert.Equal(ReasonCodes.ValidBefore, Verify(Payment(validBefore: t - 100)).Reason);
    }

    [Fact]
    public void Valid_after_may_be_now_but_not_later()
    {
        var t = Now.ToUnixTimeSeconds();
        Assert.True(Verify(Payment(validAfter: t)).IsValid);
        Assert.Equal(ReasonCodes.ValidAfter, Verify(Payment(validAfter: t + 1)).Reason);
    }

    [Fact]
    public void The_clock_decides_expiry()
    {
        var payment = Payment(validBefore: Now.ToUnixTimeSeconds() + 60);
        Assert.True(Verify(payment).IsValid);
        _time.Advance(TimeSpan.FromSeconds(55));
        Assert.Equal(ReasonCodes.ValidBefore, Verify(payment).Reason);
    }

    [Fact]
    public void A_signature_by_another_key_is_invalid() =>
        Assert.Equal(ReasonCodes.Signature, Verify(Payment(key: RandomNumberGenerator.GetBytes(32))).Reason);

    [Fact]
    public void A_signature_for_another_chain_is_invalid()
    {
        var p = Payment();
        var otherChain = new Eip712Domain(Network.Domain.Name, Network.Domain.Version, 84532, Network.Asset);
        var wrong = p with { Signature = TransferAuthorizationHasher.Sign(otherChain, p.Authorization, PayerKey) };
        Assert.Equal(ReasonCodes.Signature, Verify(wrong).Reason);
    }

    [Fact]
    public void A_tampered_signed_message_is_invalid()
    {
        var p = Payment();
        var tampered = p with { Authorization = p.Authorization with { ValidBefore = p.Authorization.ValidBefore + 1 } };
        Assert.Equal(ReasonCodes.Signature, Verify(tampered).Reason);
    }

    [Fact]
    public void Only_the_exact_scheme_is_accepted() =>
        Assert.Equal(ReasonCodes.UnsupportedScheme, Verify(Payment(scheme: "upto")).Reason);

    [Fact]
    public void Signatures_that_are_not_65_bytes_are_invalid()
    {
        var p = Payment();
        Assert.Equal(ReasonCodes.Signature, Verify(p with { Signature = p.Signature[..64] }).Reason);
    }

    [Fact]
    public void Valid_before_may_reach_max_timeout_plus_clock_skew_and_no_further()
    {
        var t = Now.ToUnixTimeSeconds();
        var limit = t + Requirement.MaxTimeoutSeconds + PaymentVerifier.ClockSkewSeconds;
        Assert.True(Verify(Payment(validBefore: limit)).IsValid);
        Assert.Equal(ReasonCodes.ValidBefore, Verify(Payment(validBefore: limit + 1)).Reason);
        // 50 years ahead: the authorization a hostile payer would want a deferred job to hold forever.
        Assert.Equal(ReasonCodes.ValidBefore, Verify(Payment(validBefore: t + 50L * 365 * 24 * 3600)).Reason);
    }

    [Fact]
    public void A_valid_before_beyond_any_integer_type_is_refused_not_thrown()
    {
        var p = Payment();
        var huge = p with { Authorization = p.Authorization with { ValidBefore = System.Numerics.BigInteger.Pow(2, 255) } };
        Assert.Equal(ReasonCodes.ValidBefore, Verify(huge).Reason);
    }
}
