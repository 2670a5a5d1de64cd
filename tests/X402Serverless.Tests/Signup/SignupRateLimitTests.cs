using System.Net;
using X402Serverless.Handler.Hosting;

namespace X402Serverless.Tests.Signup;

/// <summary>Who shares a per-client allowance (sign-up's, the paid links'): an IPv4 address alone, an IPv6 /64 as a whole.</summary>
public sealed class SignupRateLimitTests
{
    [Theory]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", true)] // one subscriber's /64: one allowance
    [InlineData("2001:db8:1:2::1", "2001:db8:1:3::1", false)]
    [InlineData("203.0.113.7", "203.0.113.8", false)]
    [InlineData("::ffff:203.0.113.7", "203.0.113.7", true)] // a mapped IPv4 address is that address
    public void Addresses_share_a_partition_only_within_one_subscriber(string a, string b, bool shared)
    {
        Assert.Equal(shared, ClientAddress.Partition(IPAddress.Parse(a)) == ClientAddress.Partition(IPAddress.Parse(b)));
    }
}
