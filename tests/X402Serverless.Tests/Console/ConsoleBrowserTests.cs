using Microsoft.Extensions.DependencyInjection;
using System.Net.Http.Json;
using System.Text.Json;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.ProviderConsole;

/// <summary>The console in a real headless Chromium: what a provider does, end to end, against a running gateway.</summary>
public sealed class ConsoleBrowserTests(ConsoleBrowserFixture fixture) : IClassFixture<ConsoleBrowserFixture>
{
    private GatewayHost Gateway => fixture.Gateway;

    private WebDriver Browser => fixture.Browser;

    [Fact]
    public async Task A_wrong_key_shows_an_error_on_the_login_page()
    {
        await SignOutEverywhereAsync();
        await Browser.NavigateAsync(Gateway.BaseUrl + "/console");
        Assert.Contains("/console/login", await Browser.CurrentUrlAsync(), StringComparison.Ordinal);
        await Browser.FillAsync("#key", "x402sk_wrong_key_for_the_browser_test");
        await Browser.ClickAsync("#sign-in");

        Assert.Contains("not valid", await Browser.TextAsync("#login-error"), StringComparison.Ordinal);
        Assert.Equal("", await (await Browser.FindAsync("#key")).PropertyAsync("value"));
        Assert.DoesNotContain("x402sk_wrong_key_for_the_browser_test", await Browser.PageSourceAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_right_key_lands_on_the_dashboard_listing_only_the_organisations_links_with_a_strict_cookie()
    {
        var (key, api) = await fixture.NewOrganisationAsync("Browser Org");
        var (other, otherApi) = await fixture.NewOrganisationAsync("Someone Else");
        using (api)
        using (otherApi)
        {
            var (mine, _) = await fixture.CreateLinkAsync(api, "Weather API", "0.02");
            var (theirs, _) = await fixture.CreateLinkAsync(otherApi, "Not yours");
            await SignInAsync(key);

            Assert.Equal("Browser Org", await Browser.TextAsync("#organisation-name"));
            Assert.Equal(Gateway.BaseUrl + "/console", (await Browser.CurrentUrlAsync()).TrimEnd('/'));
            Assert.Equal("Weather API", await Browser.TextAsync($"#link-{mine} .name"));
            Assert.Equal("0.02", await Browser.TextAsync($"#link-{mine} .price"));
            Assert.Equal($"{Gateway.BaseUrl}/l/{mine}", await (await Browser.FindAsync($"#link-{mine} .url input")).PropertyAsync("value"));
            Assert.Equal("x402", await Browser.TextAsync($"#link-{mine} .accepts"));
            Assert.Equal("sync", await Browser.TextAsync($"#link-{mine} .settlement"));
            Assert.DoesNotContain(theirs, await Browser.PageSourceAsync(), StringComparison.Ordinal);

            var cookie = Assert.Single(await Browser.CookiesAsync(), c => c.GetProperty("name").GetString() == "x402_console");
            Assert.True(cookie.GetProperty("httpOnly").GetBoolean());
            Assert.Equal("Strict", cookie.GetProperty("sameSite").GetString());
            Assert.Equal("/console", cookie.GetProperty("path").GetString());
            Assert.DoesNotContain(key, cookie.GetProperty("value").GetString()!, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_link_created_in_the_form_is_listed_and_its_paid_url_asks_for_that_price()
    {
        var (key, api) = await fixture.NewOrganisationAsync("Form Maker");
        api.Dispose();
        await SignInAsync(key);
        await Browser.ClickAsync("#nav-new-link");
        await Browser.FillAsync("#name", "Quotes API");
        await Browser.FillAsync("#upstream", "http://127.0.0.1:9/quotes");
        await Browser.FillAsync("#price", "0.07");
        await Browser.FillAsync("#payTo", ConsoleFixture.PayTo);
        await Browser.ClickAsync("#accept-credits");
        await Browser.ClickAsync("#kyc-level option[value=basic]");
        await Browser.ClickAsync("#create-link");

        Assert.Contains("Link created", await Browser.TextAsync("#created-notice"), StringComparison.Ordinal);
        Assert.Contains("/console?created=", await Browser.CurrentUrlAsync(), StringComparison.Ordinal);
        var row = await Browser.FindAsync("#links tbody tr");
        var id = (await row.PropertyAsync("id"))!["link-".Length..];
        Assert.Equal("Quotes API", await Browser.TextAsync($"#link-{id} .name"));
        Assert.Equal("0.07", await Browser.TextAsync($"#link-{id} .price"));
        Assert.Equal("x402, credits", await Browser.TextAsync($"#link-{id} .accepts"));
        Assert.Equal("0", await Browser.TextAsync($"#link-{id} .paid-calls"));
        Assert.Equal("0.00", await Browser.TextAsync($"#link-{id} .revenue"));

        Assert.Equal("70000", await fixture.AskedAmountAsync(id)); // 0.07 USDC in 6-decimal atomic units
        await Browser.NavigateAsync(Gateway.BaseUrl + "/console/links/" + id);
        Assert.Equal("basic", await Browser.TextAsync("#link-kyc"));
    }

    [Fact]
    public async Task Validation_errors_from_the_shared_validator_are_shown_next_to_the_form()
    {
        var (key, api) = await fixture.NewOrganisationAsync("Typo Ltd");
        await SignInAsync(key);
        await Browser.NavigateAsync(Gateway.BaseUrl + "/console/links/new");
        await Browser.FillAsync("#name", "Broken");
        await Browser.FillAsync("#upstream", "ftp://example.test/data");
        await Browser.FillAsync("#price", "free");
        await Browser.FillAsync("#payTo", ConsoleFixture.PayTo);
        await Browser.ClickAsync("#create-link");

        var summary = await Browser.TextAsync("#form-errors");
        Assert.EndsWith("/console/links/new", await Browser.CurrentUrlAsync(), StringComparison.Ordinal);
        Assert.Contains("upstream must be an absolute http or https URL", summary, StringComparison.Ordinal);
        Assert.Contains("price must be a USD decimal string", summary, StringComparison.Ordinal);
        Assert.Contains("absolute http or https", await Browser.TextAsync(".field-error[data-field=upstream]"), StringComparison.Ordinal);
        Assert.NotNull(await Browser.TryFindAsync(".field-error[data-field=price][data-code=invalid_price]"));
        Assert.Equal("Broken", await (await Browser.FindAsync("#name")).PropertyAsync("value")); // what was typed is kept
        using (api)
        {
            var links = await api.GetFromJsonAsync<JsonElement>("/api/links");
            Assert.Empty(links.GetProperty("items").EnumerateArray());
        }
    }

    [Fact]
    public async Task Editing_the_price_changes_what_the_paid_url_asks_for()
    {
        var (key, api) = await fixture.NewOrganisationAsync("Repricer");
        using (api)
        {
            var (id, _) = await fixture.CreateLinkAsync(api, "Pricey", "0.01");
            Assert.Equal("10000", await fixture.AskedAmountAsync(id));
            await SignInAsync(key);
            await Browser.ClickAsync($"#link-{id} .name a");
            Assert.NotNull(await Browser.TryFindAsync("#save-link"));
            Assert.EndsWith($"/console/links/{id}", await Browser.CurrentUrlAsync(), StringComparison.Ordinal);

            await Browser.FillAsync("#price", "0.0000001");
            await Browser.ClickAsync("#save-link");
            Assert.Contains("more decimals than the token", await Browser.TextAsync(".field-error[data-field=price]"), StringComparison.Ordinal);

            await Browser.FillAsync("#price", "0.05");
            await Browser.ClickAsync("#save-link");
            Assert.Equal("Changes saved.", await Browser.TextAsync("#saved-notice"));
            Assert.Equal("0.05", await Browser.TextAsync("#link-price"));
            Assert.Equal("50000", await fixture.AskedAmountAsync(id));
        }
    }

    [Fact]
    public async Task Signing_out_returns_to_the_login_and_the_console_asks_to_sign_in_again()
    {
        var (key, api) = await fixture.NewOrganisationAsync("Leaver");
        api.Dispose();
        await SignInAsync(key);
        await Browser.ClickAsync("#sign-out");
        Assert.NotNull(await Browser.TryFindAsync("#sign-in"));
        Assert.EndsWith("/console/login", await Browser.CurrentUrlAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(await Browser.CookiesAsync(), c => c.GetProperty("name").GetString() == "x402_console");

        await Browser.NavigateAsync(Gateway.BaseUrl + "/console");
        Assert.Contains("/console/login", await Browser.CurrentUrlAsync(), StringComparison.Ordinal);
        Assert.NotNull(await Browser.TryFindAsync("#sign-in"));
    }

    [Fact]
    public async Task The_listing_is_edited_on_the_link_page_with_each_error_next_to_its_field_and_the_catalogue_follows()
    {
        var (key, api) = await fixture.NewOrganisationAsync("Lister");
        using (api)
        {
            var (id, _) = await Gateway.CreateLinkAsync(new { upstream = "http://127.0.0.1:9/api", price = "0.02", payTo = ConsoleFixture.PayTo }, api);
            await SignInAsync(key);
            await Browser.NavigateAsync(Gateway.BaseUrl + $"/console/links/{id}");
            Assert.Equal("not listed", await Browser.TextAsync("#link-listed"));

            // Listed without a name, a bad tag and a schema that is not JSON: every error at once, each by its field.
            await Browser.ClickAsync("#listed");
            await Browser.FillAsync("#tags", "weather, bad tag!");
            await Browser.FillAsync("#inputSchema", "{not json");
            await Browser.ClickAsync("#save-link");
            Assert.NotNull(await Browser.TryFindAsync(".field-error[data-field=tags][data-code=invalid_tag]"));
            Assert.NotNull(await Browser.TryFindAsync(".field-error[data-field=inputSchema][data-code=invalid_schema]"));
            Assert.Contains("JSON Schema", await Browser.TextAsync("#form-errors"), StringComparison.Ordinal);
            Assert.Equal("{not json", await (await Browser.FindAsync("#inputSchema")).PropertyAsync("value")); // what was typed is kept
            await Browser.FillAsync("#tags", "weather, maps");
            await Browser.FillAsync("#inputSchema", "");
            await Browser.ClickAsync("#save-link");
            Assert.NotNull(await Browser.TryFindAsync(".field-error[data-field=listed][data-code=listing_needs_name]"));
            Assert.Equal("false", (await api.GetFromJsonAsync<JsonElement>($"/api/links/{id}")).GetProperty("listed").GetRawText());

            await Browser.FillAsync("#name", "Map Tiles");
            await Browser.FillAsync("#description", "Vector tiles for any zoom");
            await Browser.FillAsync("#category", "Maps");
            await Browser.FillAsync("#exampleRequest", "GET /tiles/3/4/2");
            await Browser.FillAsync("#inputSchema", """{"type":"object","properties":{"z":{"type":"integer"}}}""");
            await Browser.FillAsync("#outputSchema", """{"type":"object"}""");
            Assert.Equal("True", await (await Browser.FindAsync("#listed")).PropertyAsync("checked")); // still ticked from the refused save
            await Browser.ClickAsync("#save-link");
            Assert.Equal("Changes saved.", await Browser.TextAsync("#saved-notice"));
            Assert.StartsWith("listed", await Browser.TextAsync("#link-listed"), StringComparison.Ordinal);
            // The edit went through the API's own rules: read back through the API, shown in the catalogue.
            var view = await api.GetFromJsonAsync<JsonElement>($"/api/links/{id}");
            Assert.True(view.GetProperty("listed").GetBoolean());
            Assert.Equal(["weather", "maps"], view.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
            Assert.Equal("Maps", view.GetProperty("category").GetString());
            Assert.Equal("GET /tiles/3/4/2", view.GetProperty("exampleRequest").GetString());
            Assert.Equal("integer", view.GetProperty("inputSchema").GetProperty("properties").GetProperty("z").GetProperty("type").GetString());
            await Browser.ClickAsync("#link-listed a");
            await Browser.WaitForUrlAsync(u => u.EndsWith($"/apis/{id}", StringComparison.Ordinal));
            Assert.Equal("Map Tiles", await Browser.TextAsync("h1.name"));
            Assert.Contains("\"z\"", await Browser.TextAsync("#input-schema"), StringComparison.Ordinal);

            // Emptying optional fields removes them; unticking unlists.
            await Browser.NavigateAsync(Gateway.BaseUrl + $"/console/links/{id}");
            Assert.Contains("\"integer\"", await (await Browser.FindAsync("#inputSchema")).PropertyAsync("value") ?? "", StringComparison.Ordinal);
            await Browser.FillAsync("#category", "");
            await Browser.FillAsync("#inputSchema", "");
            await Browser.ClickAsync("#listed");
            await Browser.ClickAsync("#save-link");
            Assert.Equal("Changes saved.", await Browser.TextAsync("#saved-notice"));
            view = await api.GetFromJsonAsync<JsonElement>($"/api/links/{id}");
            Assert.False(view.GetProperty("listed").GetBoolean());
            Assert.False(view.TryGetProperty("category", out var category) && category.ValueKind != JsonValueKind.Null);
            Assert.False(view.TryGetProperty("inputSchema", out var schema) && schema.ValueKind != JsonValueKind.Null);
            Assert.Equal("object", view.GetProperty("outputSchema").GetProperty("type").GetString());
        }
    }

    [Fact]
    public async Task The_dashboard_and_a_link_page_show_totals_charts_and_their_table_in_chromium()
    {
        var (key, api) = await fixture.NewOrganisationAsync("Charts Browser");
        using (api)
        {
            var (id, _) = await fixture.CreateLinkAsync(api, "Charted API", "0.02");
            using (var anonymous = Gateway.Client())
            {
                for (var i = 0; i < 3; i++)
                {
                    using var challenged = await anonymous.GetAsync($"/l/{id}");
                    Assert.Equal(System.Net.HttpStatusCode.PaymentRequired, challenged.StatusCode);
                }
            }
            var recorder = Gateway.Services.GetRequiredService<X402Serverless.Handler.Usage.UsageRecorder>();
            var link = (await Gateway.Services.GetRequiredService<X402Serverless.Core.Ports.ILinkStore>().FindAsync(id, default))!;
            recorder.Charged(link, new X402Serverless.Core.Charges.BalanceReceipt(X402Serverless.Core.Money.Usd.FromMicros(20_000), false, "payer_browser"));
            await recorder.FlushAsync(default);

            await SignInAsync(key);
            await Browser.NavigateAsync(Gateway.BaseUrl + "/console?days=7");
            Assert.Equal("3", await Browser.TextAsync("#total-challenged"));
            Assert.Equal("1", await Browser.TextAsync("#total-paid"));
            Assert.Equal("0.02", await Browser.TextAsync("#total-revenue"));
            Assert.StartsWith("Calls per day", await (await Browser.FindAsync("#calls-chart-title")).PropertyAsync("textContent") ?? "", StringComparison.Ordinal);
            Assert.Equal("page", await (await Browser.FindAsync("#period-7")).PropertyAsync("ariaCurrent"));
            Assert.Equal("payer_browser", await Browser.TextAsync("#payers-breakdown tbody tr td"));
            // The chart's table is behind a native <details>: opened by a click, no script.
            await Browser.ClickAsync("details.fallback summary");
            Assert.Equal(7, (await Browser.PageSourceAsync()).Split("<tr data-day=").Length - 1);
            await Browser.ScreenshotAsync(Path.Combine(AppContext.BaseDirectory, "screenshots", "console-dashboard.png"));

            await Browser.ClickAsync($"#link-{id} .name a");
            await Browser.WaitForUrlAsync(u => u.Contains($"/console/links/{id}", StringComparison.Ordinal));
            await Browser.ClickAsync("#period-90");
            await Browser.WaitForUrlAsync(u => u.EndsWith("?days=90", StringComparison.Ordinal));
            Assert.Equal("3", await Browser.TextAsync("#total-challenged"));
            Assert.Equal($"{Gateway.BaseUrl}/l/{id}", await (await Browser.FindAsync("#link-url")).PropertyAsync("value"));
            await Browser.ScreenshotAsync(Path.Combine(AppContext.BaseDirectory, "screenshots", "console-link.png"));
        }
    }

    private async Task SignInAsync(string key)
    {
        await SignOutEverywhereAsync();
        await Browser.NavigateAsync(Gateway.BaseUrl + "/console/login");
        await Browser.FillAsync("#key", key);
        await Browser.ClickAsync("#sign-in");
        Assert.NotNull(await Browser.TryFindAsync("#sign-out"));
    }

    // Tests share one browser: each starts without the previous test's session.
    private async Task SignOutEverywhereAsync()
    {
        await Browser.NavigateAsync(Gateway.BaseUrl + "/console/console.css");
        await Browser.DeleteCookiesAsync();
    }
}
