using System.Text.Json;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Forwarding;

/// <summary>
/// In real Chromium: a provider's hostile HTML page, paid for and opened as a top-level page on the gateway's origin
/// while the browser holds a console session, runs its script but reads nothing of ours.
/// </summary>
public sealed class HostileUpstreamBrowserTests(IsolationBrowserFixture fixture) : IClassFixture<IsolationBrowserFixture>
{
    [Fact]
    public async Task A_hostile_upstream_page_runs_in_an_opaque_origin_and_cannot_read_the_console_cookies_or_a_same_origin_frame()
    {
        var browser = fixture.Browser;
        var gateway = fixture.Gateway;
        var link = await fixture.NewLinkAsync("hostile");

        // The provider's victim: signed in to the console in this browser.
        await browser.NavigateAsync(gateway.BaseUrl + "/console/login");
        await browser.FillAsync("#key", GatewayHost.AdminKey);
        await browser.ClickAsync("#sign-in");
        Assert.NotNull(await browser.TryFindAsync("#sign-out"));

        // The browser pays for the page with the payer key on the navigation itself, as a paying extension would.
        await browser.SetExtraHeadersAsync(new Dictionary<string, string> { ["Authorization"] = "Bearer " + fixture.PayerKey });
        await browser.NavigateAsync(link.Url);

        var report = JsonDocument.Parse(await (await browser.FindAsync("#report[data-done]")).TextAsync()).RootElement;
        Assert.Equal(link.Url, await browser.CurrentUrlAsync());
        Assert.Equal(1, fixture.Upstream.Hits(link.Path));
        // Its script ran, in an opaque origin rather than the gateway's.
        Assert.Equal("null", report.GetProperty("origin").GetString());
        Assert.StartsWith("blocked:", report.GetProperty("cookie").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("blocked:", report.GetProperty("storage").GetString(), StringComparison.Ordinal);
        Assert.Equal("blocked:TypeError", report.GetProperty("console").GetString());
        Assert.Equal("blocked:TypeError", report.GetProperty("frame").GetString());
    }
}
