using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.ProviderConsole;

/// <summary>Managing links, payers and keys in a real headless Chromium, with no script on the pages; a screenshot of each.</summary>
public sealed class ConsoleManagementBrowserTests(ConsoleBrowserFixture fixture) : IClassFixture<ConsoleBrowserFixture>
{
    private GatewayHost Gateway => fixture.Gateway;

    private WebDriver Browser => fixture.Browser;

    private static string Screenshot(string name) => Path.Combine(AppContext.BaseDirectory, "screenshots", name);

    [Fact]
    public async Task Every_link_field_is_edited_on_its_page_with_secret_headers_never_shown_back_then_the_link_is_deleted_after_a_confirm_step()
    {
        var (key, api) = await fixture.NewOrganisationAsync("Full Editor");
        using (api)
        {
            var (id, _) = await fixture.CreateLinkAsync(api, "Full Edit");
            await SignInAsync(key);
            await Browser.NavigateAsync($"{Gateway.BaseUrl}/console/links/{id}");

            // Text that is no number is reported by its field; the header value typed is not rendered back.
            await Browser.FillAsync("#methods", "get, post");
            await Browser.FillAsync("#perPayerRequests", "ten");
            await Browser.FillAsync("#perPayerSeconds", "60");
            await Browser.FillAsync("#upstreamHeaders", "X-Api-Key: sk_live_first_attempt");
            await Browser.ClickAsync("#save-link");
            Assert.NotNull(await Browser.TryFindAsync(".field-error[data-field='rateLimit.perPayer.requests'][data-code=invalid_number]"));
            Assert.DoesNotContain("sk_live_first_attempt", await Browser.PageSourceAsync(), StringComparison.Ordinal);
            Assert.Equal("", await (await Browser.FindAsync("#upstreamHeaders")).PropertyAsync("value"));
            Assert.Equal("get, post", await (await Browser.FindAsync("#methods")).PropertyAsync("value")); // what was typed is kept
            Assert.True(IsAbsent(await api.GetFromJsonAsync<JsonElement>($"/api/links/{id}"), "rateLimit"));

            await Browser.FillAsync("#perPayerRequests", "10");
            await Browser.FillAsync("#upstreamHeaders", "X-Api-Key: sk_live_second_attempt");
            await Browser.ClickAsync("#accept-credits");
            await Browser.ClickAsync("#chargeOn option[value=below-500]");
            await Browser.ClickAsync("#verifyOnChain");
            await Browser.FillAsync("#dailyCapPerPayer", "3");
            await Browser.FillAsync("#priceRules", "POST /v1/report 0.05");
            await Browser.FillAsync("#passPrice", "1.00");
            await Browser.FillAsync("#passCalls", "100");
            await Browser.ClickAsync("#save-link");
            Assert.Equal("Changes saved.", await Browser.TextAsync("#saved-notice"));
            Assert.Contains("never shown", await Browser.TextAsync("#headers-state"), StringComparison.Ordinal);
            Assert.DoesNotContain("sk_live_second_attempt", await Browser.PageSourceAsync(), StringComparison.Ordinal);
            Assert.Contains("10", await Browser.TextAsync("#link-rate-limits"), StringComparison.Ordinal);
            await Browser.ScreenshotAsync(Screenshot("console-link-edit.png"));

            // Read back through the API: the same rules wrote every field.
            var view = await api.GetFromJsonAsync<JsonElement>($"/api/links/{id}");
            Assert.Equal(["GET", "POST"], view.GetProperty("methods").EnumerateArray().Select(m => m.GetString()));
            Assert.Equal(["x402", "credits"], view.GetProperty("accepts").EnumerateArray().Select(m => m.GetString()));
            Assert.Equal("below-500", view.GetProperty("chargeOn").GetString());
            Assert.True(view.GetProperty("verifyOnChain").GetBoolean());
            Assert.Equal("3.00", view.GetProperty("dailyCapPerPayer").GetString());
            Assert.True(view.GetProperty("hasUpstreamHeaders").GetBoolean());
            var perPayer = view.GetProperty("rateLimit").GetProperty("perPayer");
            Assert.Equal((10, 60), (perPayer.GetProperty("requests").GetInt32(), perPayer.GetProperty("perSeconds").GetInt32()));
            var rule = Assert.Single(view.GetProperty("priceRules").EnumerateArray());
            Assert.Equal(("POST", "/v1/report", "0.05"), (rule.GetProperty("method").GetString(), rule.GetProperty("pathPrefix").GetString(), rule.GetProperty("price").GetString()));
            Assert.Equal(("1.00", 100), (view.GetProperty("pass").GetProperty("price").GetString(), view.GetProperty("pass").GetProperty("calls").GetInt32()));
            var audit = (await api.GetFromJsonAsync<JsonElement>("/api/audit?action=link.update")).GetProperty("items")[0];
            Assert.DoesNotContain("sk_live_second_attempt", audit.GetRawText(), StringComparison.Ordinal);

            // Emptying the rate limit and pass boxes removes them. (From a page without the notice, so the next one is the new page's.)
            await Browser.NavigateAsync($"{Gateway.BaseUrl}/console/links/{id}");
            foreach (var box in new[] { "#perPayerRequests", "#perPayerSeconds", "#passPrice", "#passCalls" })
            {
                await Browser.FillAsync(box, "");
            }
            await Browser.ClickAsync("#save-link");
            Assert.Equal("Changes saved.", await Browser.TextAsync("#saved-notice"));
            view = await api.GetFromJsonAsync<JsonElement>($"/api/links/{id}");
            Assert.True(IsAbsent(view, "rateLimit"));
            Assert.True(IsAbsent(view, "pass"));
            Assert.True(view.GetProperty("hasUpstreamHeaders").GetBoolean()); // an empty header box keeps them

            await Browser.ClickAsync("#delete-link");
            await Browser.WaitForUrlAsync(u => u.EndsWith("?delete=confirm", StringComparison.Ordinal));
            Assert.Contains("Full Edit", await Browser.TextAsync("#delete-question"), StringComparison.Ordinal);
            await Browser.ScreenshotAsync(Screenshot("console-link-delete.png"));
            await Browser.ClickAsync("#confirm-delete");
            Assert.Equal("Link deleted.", await Browser.TextAsync("#deleted-notice"));
            Assert.Null(await Browser.TryFindAsync($"#link-{id}"));
            using var gone = await api.GetAsync($"/api/links/{id}");
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }
    }

    [Fact]
    public async Task A_payer_is_created_with_its_key_shown_once_then_edited_given_another_key_and_the_first_revoked()
    {
        var (key, api) = await fixture.NewOrganisationAsync("Payer Browser");
        using (api)
        {
            await SignInAsync(key);
            await Browser.ClickAsync("#nav-payers");
            await Browser.FillAsync("#payer-name", "Browser agent");
            await Browser.FillAsync("#payer-allowance", "2.00");
            await Browser.ClickAsync("#create-payer");
            Assert.StartsWith("x402pk_", await Browser.TextAsync("#new-key"), StringComparison.Ordinal);
            Assert.Contains("Browser agent", await Browser.TextAsync("#payers tbody tr .name"), StringComparison.Ordinal);
            await Browser.ScreenshotAsync(Screenshot("console-payers.png"));

            await Browser.ClickAsync("#created-payer");
            Assert.Equal("Browser agent", await Browser.TextAsync("#payer-title"));
            Assert.Null(await Browser.TryFindAsync("#new-key")); // shown once, on the page that made it
            await Browser.FillAsync("#payer-cap", "9");
            await Browser.ClickAsync("#save-payer");
            Assert.Equal("Changes saved.", await Browser.TextAsync("#notice"));
            Assert.Equal("9.00", await Browser.TextAsync("#current-cap"));

            await Browser.ClickAsync("#issue-key");
            Assert.StartsWith("x402pk_", await Browser.TextAsync("#new-key"), StringComparison.Ordinal);
            await Browser.ClickAsync(".revoke");
            await Browser.WaitForUrlAsync(u => u.Contains("?revoke=", StringComparison.Ordinal));
            Assert.Contains("stops paying", await Browser.TextAsync("#revoke-question"), StringComparison.Ordinal);
            await Browser.ClickAsync("#confirm-revoke");
            Assert.Equal("Key revoked.", await Browser.TextAsync("#notice"));
            await Browser.ScreenshotAsync(Screenshot("console-payer.png"));
            var payerId = (await api.GetFromJsonAsync<JsonElement>("/api/payers")).GetProperty("items")[0].GetProperty("id").GetString()!;
            Assert.Single((await api.GetFromJsonAsync<JsonElement>($"/api/payers/{payerId}/keys")).GetProperty("items").EnumerateArray());
        }
    }

    [Fact]
    public async Task An_organisation_key_is_created_with_a_role_shown_once_and_revoked_after_a_confirm_step()
    {
        var (key, api) = await fixture.NewOrganisationAsync("Keys Browser");
        using (api)
        {
            await SignInAsync(key);
            await Browser.ClickAsync("#nav-keys");
            Assert.NotNull(await Browser.TryFindAsync("#keys .current"));
            await Browser.ClickAsync("#role option[value=developer]");
            await Browser.ClickAsync("#create-key");
            var developerKey = await Browser.TextAsync("#new-key");
            Assert.StartsWith("x402sk_", developerKey, StringComparison.Ordinal);
            await Browser.ScreenshotAsync(Screenshot("console-keys.png"));
            using (var developer = Gateway.Client(developerKey))
            {
                Assert.Equal(HttpStatusCode.OK, (await developer.GetAsync("/api/links")).StatusCode);
            }

            await Browser.ClickAsync(".revoke");
            await Browser.WaitForUrlAsync(u => u.Contains("?revoke=", StringComparison.Ordinal));
            Assert.Contains("developer", await Browser.TextAsync("#revoke-question"), StringComparison.Ordinal);
            await Browser.ClickAsync("#confirm-revoke");
            Assert.Equal("Key revoked.", await Browser.TextAsync("#revoked-notice"));
            Assert.Null(await Browser.TryFindAsync(".revoke"));
            using (var developer = Gateway.Client(developerKey))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, (await developer.GetAsync("/api/links")).StatusCode);
            }
        }
    }

    private static bool IsAbsent(JsonElement view, string property) =>
        !view.TryGetProperty(property, out var value) || value.ValueKind == JsonValueKind.Null;

    private async Task SignInAsync(string key)
    {
        await Browser.NavigateAsync(Gateway.BaseUrl + "/console/console.css");
        await Browser.DeleteCookiesAsync();
        await Browser.NavigateAsync(Gateway.BaseUrl + "/console/login");
        await Browser.FillAsync("#key", key);
        await Browser.ClickAsync("#sign-in");
        Assert.NotNull(await Browser.TryFindAsync("#sign-out"));
    }
}
