using Microsoft.Extensions.Options;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Signup;

public sealed class SignupOptionsTests
{
    [Theory]
    [InlineData("NonceSeconds", "0")]
    [InlineData("ClockSkewSeconds", "-1")]
    [InlineData("RequestsPerMinute", "0")]
    public async Task A_sign_up_number_out_of_range_fails_the_start_and_names_the_setting(string setting, string value)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
            {
                ["X402:FacilitatorUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}",
                [$"X402:Signup:{setting}"] = value,
            });
        });
        Assert.Contains($"X402:Signup:{setting} must be from", error.Message, StringComparison.Ordinal);
    }
}
