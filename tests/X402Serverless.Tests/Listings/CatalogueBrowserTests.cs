using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Handler.Health;
using X402Serverless.Tests.ProviderConsole;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Listings;

/// <summary>The public catalogue in a real headless Chromium, under its script-free content policy.</summary>
public sealed class CatalogueBrowserTests(ConsoleBrowserFixture fixture) : IClassFixture<ConsoleBrowserFixture>
{
    [Fact]
    public async Task A_listed_api_shows_its_name_and_price_in_the_browser_and_a_screenshot_is_kept()
    {
        var (_, api) = await fixture.NewOrganisationAsync("Screenshot Labs");
        using (api)
        {
            var (id, url) = await fixture.Gateway.CreateLinkAsync(new
            {
                upstream = "http://127.0.0.1:9/api", price = "0.03", payTo = ConsoleFixture.PayTo, name = "Sky Forecast API",
                description = "Hourly forecasts for any city", listed = true, tags = new[] { "weather" }, category = "Data",
                accepts = new[] { "x402", "credits" },
            }, api);
            var (unlisted, _) = await fixture.CreateLinkAsync(api, "Backstage API");
            var browser = fixture.Browser;

            await browser.NavigateAsync(fixture.Gateway.BaseUrl + "/");
            Assert.Equal("Sky Forecast API", await browser.TextAsync($"#api-{id} .name"));
            Assert.Equal("$0.03 per call", await browser.TextAsync($"#api-{id} .price"));
            Assert.Equal("by Screenshot Labs · Data", await browser.TextAsync($"#api-{id} .provider"));
            Assert.Equal("x402, credits", await browser.TextAsync($"#api-{id} .accepts"));
            Assert.DoesNotContain(unlisted, await browser.PageSourceAsync(), StringComparison.Ordinal);
            // The stylesheet loaded under the policy: the price is styled bold.
            Assert.Equal("700", await (await browser.FindAsync($"#api-{id} .price")).CssAsync("font-weight"));

            var artifacts = Path.Combine(AppContext.BaseDirectory, "artifacts");
            var png = await browser.ScreenshotAsync(Path.Combine(artifacts, "catalogue.png"));
            Assert.True(png.Length > 1000);
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);

            // Searching with the form (a GET, no script) and opening the API's page.
            await browser.FillAsync("#q", "sky forecast");
            await browser.ClickAsync("#search");
            await browser.WaitForUrlAsync(u => u.Contains("q=sky", StringComparison.Ordinal));
            Assert.Equal("1 API", await browser.TextAsync("#count"));
            await browser.ClickAsync($"#api-{id} .name");
            await browser.WaitForUrlAsync(u => u.EndsWith($"/apis/{id}", StringComparison.Ordinal));
            Assert.Equal("Sky Forecast API", await browser.TextAsync("h1.name"));
            Assert.Contains($"curl -i {url}", await browser.TextAsync("#pay-x402"), StringComparison.Ordinal);
            Assert.Contains("x402pk_", await browser.TextAsync("#pay-credits"), StringComparison.Ordinal);
            await browser.ScreenshotAsync(Path.Combine(artifacts, "catalogue-api.png"));
        }
    }

    [Fact]
    public async Task An_api_whose_health_probe_fails_is_marked_down_in_the_browser_and_a_screenshot_is_kept()
    {
        var (_, api) = await fixture.NewOrganisationAsync("Outage Labs");
        using (api)
        {
            // Nothing listens on the discard port: the probe finds no connection.
            var (id, _) = await fixture.Gateway.CreateLinkAsync(new
            {
                upstream = "http://127.0.0.1:9/api", price = "0.05", payTo = ConsoleFixture.PayTo, name = "Outage Prone API",
                listed = true, healthProbe = true, healthPath = "/healthz",
            }, api);
            Assert.True(await fixture.Gateway.Services.GetRequiredService<LinkHealthProber>().RunAsync(default) >= 1);
            var browser = fixture.Browser;

            await browser.NavigateAsync(fixture.Gateway.BaseUrl + "/");
            Assert.Equal("Outage Prone API", await browser.TextAsync($"#api-{id} .name"));
            Assert.Equal("down", await browser.TextAsync($"#api-{id} .badge.down"));
            Assert.Equal("$0.05 per call", await browser.TextAsync($"#api-{id} .price"));
            // The badge is styled (red, bold) under the page's content policy.
            Assert.Equal("700", await (await browser.FindAsync($"#api-{id} .badge.down")).CssAsync("font-weight"));
            var artifacts = Path.Combine(AppContext.BaseDirectory, "artifacts");
            var png = await browser.ScreenshotAsync(Path.Combine(artifacts, "catalogue-down.png"));
            Assert.True(png.Length > 1000);
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);

            await browser.NavigateAsync(fixture.Gateway.BaseUrl + $"/apis/{id}");
            Assert.Equal("Outage Prone API", await browser.TextAsync("h1.name"));
            Assert.Equal("down", await browser.TextAsync(".badge.down"));
            Assert.StartsWith("down (no connection), checked ", await browser.TextAsync("dd.health"), StringComparison.Ordinal);
            Assert.Equal("no calls yet", await browser.TextAsync("dd.latency"));
            await browser.ScreenshotAsync(Path.Combine(artifacts, "catalogue-api-down.png"));
        }
    }
}
