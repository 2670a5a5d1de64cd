using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;
using X402Serverless.Core.Ports;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.ProviderConsole;

/// <summary>
/// Disabling and enabling a link, and granting credits to a payer, from the console in a real headless Chromium (no
/// script on the pages): what each page says afterwards, the API agreeing, a refusal rendered; a screenshot of each.
/// </summary>
public sealed class ConsoleLinkOpsBrowserTests(ConsoleBrowserFixture fixture) : IClassFixture<ConsoleBrowserFixture>
{
    private GatewayHost Gateway => fixture.Gateway;

    private WebDriver Browser => fixture.Browser;

    private static string Screenshot(string name) => Path.Combine(AppContext.BaseDirectory, "screenshots", name);

    [Fact]
    public async Task A_link_is_disabled_from_its_page_answering_link_disabled_then_enabled_again()
    {
        var (key, api) = await fixture.NewOrganisationAsync("Toggle Browser");
        using (api)
        {
            var (id, _) = await fixture.CreateLinkAsync(api, "Switchable API");
            await SignInAsync(key);
            await Browser.NavigateAsync($"{Gateway.BaseUrl}/console/links/{id}");
            Assert.Equal("enabled", await Browser.TextAsync("#link-status"));
            Assert.Null(await Browser.TryFindAsync("#disabled-notice"));
            Assert.Null(await Browser.TryFindAsync("#enable-link"));

            await Browser.ClickAsync("#disable-link");
            Assert.Equal("Changes saved.", await Browser.TextAsync("#saved-notice"));
            Assert.Equal("disabled", await Browser.TextAsync("#link-status"));
            Assert.Contains("link_disabled", await Browser.TextAsync("#disabled-notice"), StringComparison.Ordinal);
            Assert.Null(await Browser.TryFindAsync("#disable-link"));
            Assert.NotNull(await Browser.TryFindAsync("#enable-link"));
            await Browser.ScreenshotAsync(Screenshot("console-link-disabled.png"));

            // The page and the API say the same, and the paid URL refuses before asking for any payment.
            Assert.True((await api.GetFromJsonAsync<JsonElement>($"/api/links/{id}")).GetProperty("disabled").GetBoolean());
            using (var http = Gateway.Client())
            using (var refused = await http.GetAsync($"/l/{id}"))
            {
                Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
                Assert.Contains("link_disabled", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
            var audit = (await api.GetFromJsonAsync<JsonElement>("/api/audit?action=link.update")).GetProperty("items")[0];
            Assert.Equal(id, audit.GetProperty("targetId").GetString());

            // From a page without the notice, so the notice read next is the new page's.
            await Browser.NavigateAsync($"{Gateway.BaseUrl}/console/links/{id}");
            await Browser.ClickAsync("#enable-link");
            Assert.Equal("Changes saved.", await Browser.TextAsync("#saved-notice"));
            Assert.Equal("enabled", await Browser.TextAsync("#link-status"));
            Assert.Null(await Browser.TryFindAsync("#disabled-notice"));
            Assert.NotNull(await Browser.TryFindAsync("#disable-link"));
            Assert.False((await api.GetFromJsonAsync<JsonElement>($"/api/links/{id}")).GetProperty("disabled").GetBoolean());
            using (var http = Gateway.Client())
            using (var asks = await http.GetAsync($"/l/{id}"))
            {
                Assert.Equal(HttpStatusCode.PaymentRequired, asks.StatusCode);
            }
        }
    }

    [Fact]
    public async Task Credits_are_granted_from_the_payer_page_and_a_grant_beyond_the_earnings_shows_the_refusal()
    {
        var (key, api) = await fixture.NewOrganisationAsync("Grant Browser");
        using (api)
        {
            var organisationId = (await api.GetFromJsonAsync<JsonElement>("/api/organisation")).GetProperty("id").GetString()!;
            await FundEarningsAsync(organisationId, "3.00");
            using var created = await api.PostAsJsonAsync("/api/payers", new { name = "Granted agent" });
            var payerId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("payer").GetProperty("id").GetString()!;
            await SignInAsync(key);
            await Browser.NavigateAsync($"{Gateway.BaseUrl}/console/payers/{payerId}");
            Assert.Equal("0.00", await Browser.TextAsync("#payer-credits"));
            Assert.Contains("3.00 USD now", await Browser.TextAsync("#grant-credits-form"), StringComparison.Ordinal);

            await Browser.FillAsync("#grant-amount", "1.25");
            await Browser.FillAsync("#grant-memo", "Welcome credit");
            await Browser.ClickAsync("#grant-credits");
            Assert.Equal("Credits granted.", await Browser.TextAsync("#notice"));
            Assert.Equal("1.25", await Browser.TextAsync("#payer-credits"));
            Assert.Contains("1.75 USD now", await Browser.TextAsync("#grant-credits-form"), StringComparison.Ordinal);
            Assert.Equal("", await (await Browser.FindAsync("#grant-amount")).PropertyAsync("value")); // a fresh form
            await Browser.ScreenshotAsync(Screenshot("console-payer-granted.png"));
            var ledger = Gateway.Services.GetRequiredService<ILedger>();
            Assert.Equal(Usd.Parse("1.25"), await ledger.BalanceAsync(Accounts.Credits(payerId), default));
            Assert.Equal(Usd.Parse("1.75"), await ledger.BalanceAsync(Accounts.Earnings(organisationId), default));

            // Beyond what the earnings hold: the 409's message on the page, the amount typed kept, nothing moved.
            await Browser.FillAsync("#grant-amount", "5.00");
            await Browser.ClickAsync("#grant-credits");
            var refusal = await Browser.TextAsync("#form-errors li[data-code=earnings_insufficient]");
            Assert.Contains("do not cover this grant", refusal, StringComparison.Ordinal);
            Assert.Contains("1.75", refusal, StringComparison.Ordinal);
            Assert.NotNull(await Browser.TryFindAsync(".field-error[data-field=amount][data-code=earnings_insufficient]"));
            Assert.Equal("5.00", await (await Browser.FindAsync("#grant-amount")).PropertyAsync("value"));
            Assert.Equal("1.25", await Browser.TextAsync("#payer-credits"));
            await Browser.ScreenshotAsync(Screenshot("console-payer-grant-refused.png"));
            Assert.Equal(Usd.Parse("1.25"), await ledger.BalanceAsync(Accounts.Credits(payerId), default));
            Assert.Equal(Usd.Parse("1.75"), await ledger.BalanceAsync(Accounts.Earnings(organisationId), default));

            // Text that is no amount is reported by its field before anything is asked of the ledger.
            await Browser.FillAsync("#grant-amount", "lots");
            await Browser.ClickAsync("#grant-credits");
            // The refused page's amount error is still there until the answer replaces it: wait for the new code.
            Assert.NotNull(await Browser.TryFindAsync(".field-error[data-field=amount][data-code=invalid_amount]"));
            Assert.Null(await Browser.TryFindAsync("#form-errors li[data-code=earnings_insufficient]"));
            Assert.Equal(Usd.Parse("1.25"), await ledger.BalanceAsync(Accounts.Credits(payerId), default));
        }
    }

    // Earnings as a paid call would leave them: money that came in from outside.
    private async Task FundEarningsAsync(string organisationId, string amount) =>
        await Gateway.Services.GetRequiredService<ILedger>().PostAsync(
            LedgerEntry.Transfer($"test-earn:{Guid.NewGuid():N}", "test", Accounts.CardClearing, Accounts.Earnings(organisationId), Usd.Parse(amount)), [], default);

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
