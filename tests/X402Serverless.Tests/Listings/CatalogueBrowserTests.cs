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
    public async Task The_api_reference_shows_each_listed_apis_operations_schemas_and_payment_and_a_screenshot_is_kept()
    {
        var (_, api) = await fixture.NewOrganisationAsync("Reference Labs");
        using (api)
        {
            var (id, url) = await fixture.Gateway.CreateLinkAsync(new
            {
                upstream = "http://127.0.0.1:9/secret-upstream-path", price = "0.04", payTo = ConsoleFixture.PayTo, name = "Geo <Lookup> API",
                description = "Coordinates for any address", listed = true, methods = new[] { "GET", "POST" }, accepts = new[] { "x402", "credits" },
                priceRules = new object[] { new { method = "POST", pathPrefix = "/batch", price = "0.40" } },
                inputSchema = new { type = "object", properties = new { address = new { type = "string" }, limit = new { type = "integer" } }, required = new[] { "address" } },
                outputSchema = new { type = "object", properties = new { lat = new { type = "number" }, lon = new { type = "number" } } },
            }, api);
            var (unlisted, _) = await fixture.CreateLinkAsync(api, "Backstage Reference API");
            var browser = fixture.Browser;

            // From the catalogue's header, then from the API's own page to its anchor.
            await browser.NavigateAsync(fixture.Gateway.BaseUrl + "/");
            await browser.ClickAsync("header a[href='/reference']");
            await browser.WaitForUrlAsync(u => u.EndsWith("/reference", StringComparison.Ordinal));
            var section = $"#ref-{id}";
            Assert.Equal("Geo <Lookup> API", await browser.TextAsync($"{section} .name"));
            Assert.Equal("by Reference Labs", await browser.TextAsync($"{section} .provider"));
            Assert.Equal("$0.04 per call", await browser.TextAsync($"{section} .price"));
            Assert.Equal(url, await browser.TextAsync($"{section} .url"));
            Assert.Equal($"GET /l/{id}", await browser.TextAsync($"#ref-{id}-get h3"));
            Assert.Equal($"POST /l/{id}", await browser.TextAsync($"#ref-{id}-post h3"));
            // GET takes the input schema as query parameters, POST as its JSON body; both answer the output schema.
            var parameters = await browser.TextAsync($"#ref-{id}-get table.parameters");
            Assert.Contains("address string yes", parameters, StringComparison.Ordinal);
            Assert.Contains("limit integer no", parameters, StringComparison.Ordinal);
            Assert.Contains("\"address\"", await browser.TextAsync($"#ref-{id}-post .request-schema"), StringComparison.Ordinal);
            Assert.Contains("\"lat\"", await browser.TextAsync($"#ref-{id}-get .response-schema"), StringComparison.Ordinal);
            Assert.Contains("Payment required: 0.04 USD per call", await browser.TextAsync($"#ref-{id}-get .payment-required"), StringComparison.Ordinal);
            Assert.Contains("POST /batch $0.40", await browser.TextAsync($"{section} table.price-rules"), StringComparison.Ordinal);
            // The requirements are the ones its 402 asks: the same atomic amount and recipient.
            Assert.Equal(await fixture.AskedAmountAsync(id), await browser.TextAsync($"{section} table.requirements .amount"));
            Assert.Equal(ConsoleFixture.PayTo, await browser.TextAsync($"{section} table.requirements .pay-to"));
            Assert.Contains("(eip155:", await browser.TextAsync($"{section} table.requirements .network"), StringComparison.Ordinal);
            var source = await browser.PageSourceAsync();
            Assert.DoesNotContain(unlisted, source, StringComparison.Ordinal);
            Assert.DoesNotContain("secret-upstream-path", source, StringComparison.Ordinal);
            Assert.DoesNotContain("<script", source, StringComparison.OrdinalIgnoreCase);
            Assert.Equal("700", await (await browser.FindAsync($"{section} .price")).CssAsync("font-weight"));

            var artifacts = Path.Combine(AppContext.BaseDirectory, "artifacts");
            // Scrolled to this API's anchor, so the screenshot shows it whatever else is listed.
            await browser.NavigateAsync(fixture.Gateway.BaseUrl + $"/reference#ref-{id}");
            var png = await browser.ScreenshotAsync(Path.Combine(artifacts, "reference.png"));
            Assert.True(png.Length > 1000);
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);

            await browser.NavigateAsync(fixture.Gateway.BaseUrl + $"/apis/{id}");
            await browser.ClickAsync("#reference");
            await browser.WaitForUrlAsync(u => u.EndsWith($"/reference#ref-{id}", StringComparison.Ordinal));
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
