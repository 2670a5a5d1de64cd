using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Kyc;

/// <summary>A misconfigured attestation key or trusted signer stops the gateway at start, with the setting named.</summary>
public sealed class KycConfigurationTests
{
    [Theory]
    [InlineData("X402:Kyc:AttestationKey", "0x1234", "X402:Kyc:AttestationKey", true)]
    [InlineData("X402:Kyc:TrustedAttestationSigners:0", "gateway.example", "X402:Kyc:TrustedAttestationSigners", false)]
    public async Task A_bad_kyc_setting_fails_the_start_and_names_the_setting(string setting, string value, string named, bool secret)
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
            {
                ["X402:FacilitatorUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}",
                [setting] = value,
            });
        });
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
        if (secret)
        {
            Assert.DoesNotContain(value, error.Message, StringComparison.Ordinal); // a key is never echoed
        }
    }
}
