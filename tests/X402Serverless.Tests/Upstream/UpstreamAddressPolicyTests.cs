using System.Net;
using X402Serverless.Core.Upstream;

namespace X402Serverless.Tests.Upstream;

public sealed class UpstreamAddressPolicyTests
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("10.0.0.5")]
    [InlineData("172.16.3.4")]
    [InlineData("192.168.0.1")]
    [InlineData("169.254.169.254")]
    [InlineData("168.63.129.16")]
    [InlineData("100.64.0.1")]
    [InlineData("0.0.0.0")]
    [InlineData("::1")]
    [InlineData("fe80::1")]
    [InlineData("fd00:ec2::254")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("::ffff:169.254.169.254")]
    [InlineData("224.0.0.1")]
    public void Private_loopback_link_local_and_metadata_addresses_are_refused(string address) =>
        Assert.False(new UpstreamAddressPolicy([]).IsAllowed(IPAddress.Parse(address)));

    [Theory]
    [InlineData("93.184.216.34")]
    [InlineData("8.8.8.8")]
    [InlineData("2606:4700::1111")]
    public void Public_addresses_are_allowed(string address) =>
        Assert.True(new UpstreamAddressPolicy([]).IsAllowed(IPAddress.Parse(address)));

    [Fact]
    public void An_allow_listed_range_is_reachable_and_nothing_else_is()
    {
        var policy = new UpstreamAddressPolicy(["127.0.0.0/8"]);
        Assert.True(policy.IsAllowed(IPAddress.Parse("127.0.0.1")));
        Assert.False(policy.IsAllowed(IPAddress.Parse("10.0.0.1")));
    }

    [Fact]
    public async Task A_name_that_resolves_to_any_refused_address_is_refused()
    {
        // One public and one metadata address: a rebinding-style answer must not slip through.
        var policy = new UpstreamAddressPolicy([], (_, _) => Task.FromResult(new[] { IPAddress.Parse("93.184.216.34"), IPAddress.Parse("169.254.169.254") }));
        var verdict = await policy.CheckHostAsync("api.example.com", default);
        Assert.Equal("upstream_address_refused", verdict?.Code);
    }

    [Fact]
    public async Task A_name_that_does_not_resolve_is_refused_with_its_own_code()
    {
        var policy = new UpstreamAddressPolicy([], (_, _) => throw new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.HostNotFound));
        Assert.Equal("upstream_unresolvable", (await policy.CheckHostAsync("nowhere.invalid", default))?.Code);
    }
}
