using System.Net.Http.Json;
using System.Text.Json;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Deployment;

/// <summary>Settings the binder would silently misread stop the start, naming the setting and the form that works.</summary>
public sealed class ConfigurationTests
{
    [Theory]
    [InlineData("X402:AllowedUpstreamRanges", "127.0.0.0/8", "X402__AllowedUpstreamRanges__0")]
    [InlineData("X402:DefaultNetworks", "eip155:8453", "X402__DefaultNetworks__0")]
    [InlineData("X402:Settlement:FacilitatorOrganisations", "org_partner", "X402__Settlement__FacilitatorOrganisations__0")]
    [InlineData("X402:Kyc:TrustedAttestationSigners", "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", "X402__Kyc__TrustedAttestationSigners__0")]
    public async Task A_list_set_as_one_value_fails_the_start_and_names_the_indexed_form(string setting, string value, string indexed)
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => StartAsync(setting, value));
        Assert.Contains(setting, error.Message, StringComparison.Ordinal);
        Assert.Contains(indexed, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_number_that_is_not_one_fails_the_start_and_names_the_setting()
    {
        var error = await Assert.ThrowsAnyAsync<InvalidOperationException>(() => StartAsync("X402:UpstreamTimeoutSeconds", "thirty"));
        Assert.Contains("X402:UpstreamTimeoutSeconds", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_indexed_form_of_a_list_applies()
    {
        // GatewayHost sets X402:AllowedUpstreamRanges:0 = 127.0.0.0/8; a loopback upstream is accepted only because of it.
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?> { ["X402:FacilitatorUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}" });
        using var created = await gateway.Admin.PostAsJsonAsync("/api/links", new
        {
            upstream = "http://127.0.0.1:9/api", price = "0.01", payTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
        });
        Assert.Equal(201, (int)created.StatusCode);
        Assert.StartsWith("lnk_", (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString(), StringComparison.Ordinal);
    }

    private static async Task StartAsync(string setting, string value)
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["X402:FacilitatorUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}",
            [setting] = value,
        });
    }
}
