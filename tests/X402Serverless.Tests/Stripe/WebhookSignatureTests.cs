using System.Text;
using X402Serverless.Core.Webhooks;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Stripe;

/// <summary>Our verifier against headers made by Stripe's own npm package.</summary>
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
    [InlineData("")]
    [InlineData("v1=abc")]
    [InlineData("t=notanumber,v1=0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("t=1800000000")]
    public void Malformed_headers_are_refused(string header) =>
        Assert.Equal(WebhookSignatureResult.Malformed, Verify(Payload, header, Now));

    private static WebhookSignatureResult Verify(string payload, string header, DateTimeOffset now) =>
        WebhookSignature.Verify(Encoding.UTF8.GetBytes(payload), header, Secret, now, WebhookSignature.DefaultTolerance);
}
