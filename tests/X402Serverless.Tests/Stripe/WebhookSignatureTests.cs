using X402Serverless.Core.Webhooks;
using X402Serverless.Handler.Stripe;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Stripe;

/// <summary>Stripe.net's verification, as the webhook endpoint uses it, against headers made by Stripe's own npm package.</summary>
public sealed class WebhookSignatureTests
{
    private const string Secret = "whsec_test_secret_for_signatures";
    private const string Payload = """{"id":"evt_1","type":"checkout.session.completed"}""";
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    internal static async Task<string> OfficialHeaderAsync(string payload, string secret, long timestamp) =>
        (await PeerProcess.RunNodeWithInputAsync(null, payload, "stripe-sig.mjs", secret, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture))).Trim();

    [Fact]
    public async Task A_header_made_by_the_stripe_package_verifies()
    {
        var header = await OfficialHeaderAsync(Payload, Secret, Now.ToUnixTimeSeconds());
        Assert.Equal(WebhookSignatureResult.Valid, Verify(Payload, header, Now));
    }

    [Fact]
    public async Task A_tampered_body_does_not_verify()
    {
        var header = await OfficialHeaderAsync(Payload, Secret, Now.ToUnixTimeSeconds());
        Assert.Equal(WebhookSignatureResult.Mismatch, Verify(Payload.Replace("evt_1", "evt_2", StringComparison.Ordinal), header, Now));
    }

    [Fact]
    public async Task Another_secret_does_not_verify()
    {
        var header = await OfficialHeaderAsync(Payload, "whsec_someone_else", Now.ToUnixTimeSeconds());
        Assert.Equal(WebhookSignatureResult.Mismatch, Verify(Payload, header, Now));
    }

    [Fact]
    public async Task A_stale_timestamp_is_refused_even_with_a_good_signature()
    {
        var header = await OfficialHeaderAsync(Payload, Secret, Now.ToUnixTimeSeconds() - 301);
        Assert.Equal(WebhookSignatureResult.Stale, Verify(Payload, header, Now));
        var fresh = await OfficialHeaderAsync(Payload, Secret, Now.ToUnixTimeSeconds() - 299);
        Assert.Equal(WebhookSignatureResult.Valid, Verify(Payload, fresh, Now));
    }

    [Fact]
    public async Task Any_one_of_several_v1_signatures_may_match()
    {
        var header = await OfficialHeaderAsync(Payload, Secret, Now.ToUnixTimeSeconds());
        var rolled = header.Replace("v1=", "v1=" + new string('0', 64) + ",v1=", StringComparison.Ordinal) + ",v0=" + new string('f', 64);
        Assert.Equal(WebhookSignatureResult.Valid, Verify(Payload, rolled, Now));
    }

    [Theory]
    [InlineData("v1=abc")]
    [InlineData("t=notanumber,v1=0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("t=1800000000")]
    [InlineData("garbage")]
    [InlineData("t=99999999999999999999,v1=00")]
    public void Malformed_headers_are_refused(string header) =>
        Assert.Equal(WebhookSignatureResult.Mismatch, Verify(Payload, header, Now));

    [Fact]
    public void A_missing_header_is_refused() => Assert.Equal(WebhookSignatureResult.Malformed, Verify(Payload, "", Now));

    [Fact]
    public async Task An_event_from_another_api_version_is_accepted_and_its_version_read()
    {
        const string old = """{"id":"evt_2","object":"event","api_version":"2020-08-27","type":"checkout.session.completed"}""";
        var header = await OfficialHeaderAsync(old, Secret, Now.ToUnixTimeSeconds());
        Assert.Equal(WebhookSignatureResult.Valid, StripeWebhookVerifier.Verify(old, header, Secret, Now, 300, out var typed));
        Assert.Equal("2020-08-27", typed!.ApiVersion);
    }

    [Fact]
    public async Task A_signed_event_stripe_nets_model_cannot_read_is_still_accepted()
    {
        // Our processor reads the stored payload itself (and records such an amount as out of range).
        const string odd = """{"id":"evt_3","type":"checkout.session.completed","data":{"object":{"object":"checkout.session","amount_total":1e30}}}""";
        var header = await OfficialHeaderAsync(odd, Secret, Now.ToUnixTimeSeconds());
        Assert.Equal(WebhookSignatureResult.Valid, Verify(odd, header, Now));
    }

    private static WebhookSignatureResult Verify(string payload, string header, DateTimeOffset now) =>
        StripeWebhookVerifier.Verify(payload, header, Secret, now, (long)WebhookSignature.DefaultTolerance.TotalSeconds, out _);
}
