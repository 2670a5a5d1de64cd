using Microsoft.Extensions.Options;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.RateLimits;

/// <summary>The gateway's default rate limits are checked at start with a link's own ranges, the setting named.</summary>
public sealed class RateLimitSettingsTests
{
    [Theory]
    [InlineData("X402:RateLimits:PerPayer:Requests", "0", "X402:RateLimits:PerPayer:Requests must be from 1 to 1000000")]
    [InlineData("X402:RateLimits:PerIp:PerSeconds", "86401", "X402:RateLimits:PerIp:PerSeconds must be from 1 to 86400")]
    [InlineData("X402:RateLimits:MaxBuckets", "10", "X402:RateLimits:MaxBuckets must be at least 1000")]
    public async Task An_out_of_range_default_fails_the_start_and_names_the_setting(string setting, string value, string message)
    {
        var settings = new Dictionary<string, string?>
        {
            ["X402:FacilitatorUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}",
            ["X402:RateLimits:PerPayer:Requests"] = "10",
            ["X402:RateLimits:PerIp:Requests"] = "10",
            [setting] = value,
        };
        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var gateway = await GatewayHost.StartAsync(settings);
        });
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }
}
