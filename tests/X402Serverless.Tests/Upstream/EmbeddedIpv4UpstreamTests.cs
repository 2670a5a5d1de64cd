using System.Net;
using System.Net.Http.Json;
using X402Serverless.Core.Upstream;
using X402Serverless.Handler.Forwarding;
using X402Serverless.Tests.Management;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Upstream;

/// <summary>
/// IPv6 upstreams that embed a private IPv4 are refused on create, on PATCH and at connect time. The gateway here
/// allow-lists 127.0.0.0/8 for its test upstreams, so the embedded targets are metadata and private ranges.
/// </summary>
public sealed class EmbeddedIpv4UpstreamTests(ManagementFixture fixture) : IClassFixture<ManagementFixture>
{
    private const string PayTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";

    public static TheoryData<string> Embedded => new()
    {
        "::a9fe:a9fe", // IPv4-compatible 169.254.169.254
        "::ffff:169.254.169.254", // IPv4-mapped
        "::ffff:0:a00:1", // SIIT 10.0.0.1
        "64:ff9b::a9fe:a9fe", // NAT64
        "64:ff9b:1::c0a8:1", // local-use NAT64 192.168.0.1
        "2002:a9fe:a9fe::", // 6to4
        "2001:0:a9fe:a9fe::f7f7:f7f7", // Teredo server 169.254.169.254
        "2001:0:4136:e378::5601:5601", // Teredo client 169.254.169.254
    };

    [Theory]
    [MemberData(nameof(Embedded))]
    public async Task Creating_a_link_to_an_embedded_private_IPv4_is_refused(string address)
    {
        using var response = await fixture.Gateway.Admin.PostAsJsonAsync("/api/links", new { upstream = $"http://[{address}]/x", price = "0.01", payTo = PayTo });
        await ProblemAssert.IsAsync(response, 400, "upstream_address_refused", address);
    }

    [Theory]
    [MemberData(nameof(Embedded))]
    public async Task Patching_a_link_to_an_embedded_private_IPv4_is_refused_and_changes_nothing(string address)
    {
        var (id, _) = await fixture.Gateway.CreateLinkAsync(new { upstream = "http://127.0.0.1:9/x", price = "0.01", payTo = PayTo });
        using var response = await fixture.Gateway.Admin.PatchAsJsonAsync($"/api/links/{id}", new { upstream = $"http://[{address}]/x" });
        await ProblemAssert.IsAsync(response, 400, "upstream_address_refused", address);
        var link = await fixture.Gateway.Admin.GetFromJsonAsync<System.Text.Json.JsonElement>($"/api/links/{id}");
        Assert.Equal("http://127.0.0.1:9/x", link.GetProperty("upstream").GetString());
    }

    [Theory]
    [InlineData("::127.0.0.1")]
    [InlineData("::ffff:0:127.0.0.1")]
    [InlineData("64:ff9b:1::7f00:1")]
    [InlineData("2002:7f00:1::")]
    [InlineData("2001:0:4136:e378::80ff:fffe")]
    public async Task A_name_that_resolves_to_an_embedded_loopback_is_refused_at_connect_time(string address)
    {
        // The resolver answers differently at connect time than it did at creation (DNS rebinding).
        var policy = new UpstreamAddressPolicy([], (_, _) => Task.FromResult(new[] { IPAddress.Parse(address) }));
        using var client = UpstreamClientFactory.Create(policy);
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://rebound.example.test:9/x");
        var failure = await Assert.ThrowsAsync<HttpRequestException>(() => client.SendAsync(request, CancellationToken.None));
        Assert.IsType<UpstreamAddressRefusedException>(failure.InnerException);
    }
}
