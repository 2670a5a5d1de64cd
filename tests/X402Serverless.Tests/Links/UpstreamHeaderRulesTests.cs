using X402Serverless.Core.Links;

namespace X402Serverless.Tests.Links;

public sealed class UpstreamHeaderRulesTests
{
    [Theory]
    [InlineData("Host", "evil")]
    [InlineData("content-length", "5")]
    [InlineData("Transfer-Encoding", "chunked")]
    [InlineData("Connection", "close")]
    [InlineData("Keep-Alive", "timeout=5")]
    [InlineData("TE", "trailers")]
    [InlineData("Upgrade", "websocket")]
    [InlineData("Payment-Signature", "x")]
    [InlineData("X-PAYMENT", "x")]
    [InlineData("X-Forwarded-For", "10.0.0.1")]
    [InlineData("X Key", "v")]
    [InlineData("X:Key", "v")]
    [InlineData("", "v")]
    [InlineData("Schl\u00fcssel", "v")]
    [InlineData("X-Key", "a\r\nInjected: yes")]
    [InlineData("X-Key", "a\u0000b")]
    [InlineData("X-Key", "a\u007fb")]
    [InlineData("X-Key", "caf\u00e9")]
    [InlineData("X-Key", "\ud83d\udd11")]
    [InlineData("X-Key", " leading")]
    [InlineData("X-Key", "trailing\t")]
    public void Unsendable_or_reserved_headers_are_refused(string name, string value) =>
        Assert.Equal(UpstreamHeaderRules.Code, Assert.Single(UpstreamHeaderRules.Check(new Dictionary<string, string> { [name] = value })).Code);

    [Fact]
    public void Headers_over_the_total_bound_are_refused() =>
        Assert.Equal(UpstreamHeaderRules.Code, Assert.Single(UpstreamHeaderRules.Check(new Dictionary<string, string>
        {
            ["X-A"] = new string('a', 4096), ["X-B"] = new string('b', 4096),
        })).Code);

    [Fact]
    public void Too_many_headers_are_refused() =>
        Assert.Equal(UpstreamHeaderRules.Code, Assert.Single(UpstreamHeaderRules.Check(
            Enumerable.Range(0, UpstreamHeaderRules.MaxCount + 1).ToDictionary(i => $"X-H{i}", _ => "v"))).Code);

    [Fact]
    public void Ordinary_credentials_pass() =>
        Assert.Empty(UpstreamHeaderRules.Check(new Dictionary<string, string>
        {
            ["Authorization"] = "Bearer sk_live_abc.def-123", ["X-Api-Key"] = "k\tv w", ["Cookie"] = "session=1; theme=dark", ["X-Empty"] = "",
        }));
}
