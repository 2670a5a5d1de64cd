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
    [InlineData("::127.0.0.1")] // IPv4-compatible
    [InlineData("::a9fe:a9fe")] // IPv4-compatible 169.254.169.254
    [InlineData("::ffff:0:127.0.0.1")] // SIIT
    [InlineData("::ffff:0:a00:1")] // SIIT 10.0.0.1
    [InlineData("64:ff9b::7f00:1")] // NAT64 well-known prefix
    [InlineData("64:ff9b::a9fe:a9fe")]
    [InlineData("64:ff9b:1::7f00:1")] // local-use NAT64, /96 placement
    [InlineData("64:ff9b:1:7f00:1::")] // local-use NAT64, /48 placement (bits 64-71 skipped)
    [InlineData("64:ff9b:1:a9:fe:a9fe::")] // local-use NAT64, /56 placement
    [InlineData("64:ff9b:1:0:a:0:1::")] // local-use NAT64, /64 placement of 10.0.0.1
    [InlineData("2002:7f00:1::")] // 6to4
    [InlineData("2002:a9fe:a9fe:1::1")]
    [InlineData("2002:c0a8:1::")] // 6to4 of 192.168.0.1
    [InlineData("2001:0:a9fe:a9fe::f7f7:f7f7")] // Teredo: metadata server, public client 8.8.8.8
    [InlineData("2001:0:4136:e378::80ff:fffe")] // Teredo: public server, client 127.0.0.1 (inverted)
    [InlineData("2001:0:4136:e378::5601:5601")] // Teredo: public server, client 169.254.169.254
    public void IPv6_addresses_that_embed_a_refused_IPv4_are_refused(string address) =>
        Assert.False(new UpstreamAddressPolicy([]).IsAllowed(IPAddress.Parse(address)), address);

    [Theory]
    [InlineData("64:ff9b::808:808", "8.8.8.8")]
    [InlineData("2002:808:808::1", "8.8.8.8")]
    [InlineData("2001:0:4136:e378::f7f7:f7f7", "65.54.227.120", "8.8.8.8")]
    [InlineData("::ffff:0:808:808", "8.8.8.8")]
    public void Embedded_IPv4_addresses_are_found_and_public_ones_pass(string address, params string[] embedded)
    {
        var ip = IPAddress.Parse(address);
        Assert.Subset(EmbeddedIpv4.Of(ip).Select(a => a.ToString()).ToHashSet(), embedded.ToHashSet());
        Assert.True(new UpstreamAddressPolicy([]).IsAllowed(ip), address);
    }

    [Fact]
    public void A_plain_IPv6_address_embeds_nothing() =>
        Assert.Empty(EmbeddedIpv4.Of(IPAddress.Parse("2606:4700::1111")));

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
