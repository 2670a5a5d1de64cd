using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using X402Serverless.Tests.ProviderConsole;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.Webhooks.WebhooksFixture;

namespace X402Serverless.Tests.Webhooks;

/// <summary>The webhooks fixture plus one headless Chromium.</summary>
public sealed class WebhookBrowserFixture : WebhooksFixture
{
    internal WebDriver Browser { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Browser = await WebDriver.StartAsync();
    }

    public override async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }
        await base.DisposeAsync();
    }
}

/// <summary>The console's webhook pages in Chromium (content asserted, a screenshot per page) and over plain HTTP as another organisation.</summary>
public sealed class WebhookConsoleTests(WebhookBrowserFixture fixture) : IClassFixture<WebhookBrowserFixture>
{
    private WebDriver Browser => fixture.Browser;

    private static string Artifacts => Path.Combine(AppContext.BaseDirectory, "artifacts");

    [Fact]
    public async Task A_provider_creates_an_endpoint_sees_its_secret_once_sends_a_test_event_redelivers_rotates_and_deletes_it()
    {
        var key = await NewOrganisationKeyAsync();
        await SignInAsync(key);
        await Browser.ClickAsync("#nav-webhooks");
        Assert.NotNull(await Browser.TryFindAsync("#no-webhooks"));

        // A private target is refused by its field, nothing created.
        await Browser.FillAsync("#url", "https://10.0.0.1/hook");
        await Browser.ClickAsync("#event-payment-settled");
        await Browser.ClickAsync("#create-webhook");
        Assert.Contains("10.0.0.1", await TextAsync(".field-error[data-field=url]"), StringComparison.Ordinal);

        var name = "console" + Guid.NewGuid().ToString("N")[..8];
        await Browser.FillAsync("#url", fixture.Receiver.Url(name));
        await Browser.ClickAsync("#create-webhook");
        var secret = await TextAsync("#new-secret");
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        var row = await Browser.FindAsync("#webhooks tbody tr");
        var id = (await row.PropertyAsync("id"))!["webhook-".Length..];
        Assert.Equal(fixture.Receiver.Url(name), await TextAsync($"#webhook-{id} .url"));
        Assert.Equal("payment.settled", await TextAsync($"#webhook-{id} .events"));
        Assert.Equal("yes", await TextAsync($"#webhook-{id} .enabled"));
        await Browser.ScreenshotAsync(Path.Combine(Artifacts, "console-webhooks.png"));

        await Browser.ClickAsync("#created-endpoint");
        await Browser.WaitForUrlAsync(u => u.EndsWith($"/console/webhooks/{id}", StringComparison.Ordinal));
        Assert.DoesNotContain(secret, await Browser.PageSourceAsync(), StringComparison.Ordinal);
        Assert.Contains("current", await TextAsync("#webhook-secrets"), StringComparison.Ordinal);
        await Browser.ClickAsync("#send-test");
        Assert.Equal("Test event queued.", await TextAsync("#notice"));
        await Poll.UntilAsync(() => Task.FromResult(fixture.Receiver.To(name).Count == 1), TimeSpan.FromSeconds(30));
        var received = fixture.Receiver.To(name)[0];
        Assert.Equal([received.EventId], await StripeVerifiesAsync(received.Body, received.Signature, 300, secret));

        await Poll.UntilAsync(async () =>
        {
            await Browser.NavigateAsync($"{fixture.Gateway.BaseUrl}/console/webhooks/{id}");
            return await TextAsync("#deliveries tbody tr .status") == "delivered";
        }, TimeSpan.FromSeconds(30));
        Assert.Contains("webhook.test", await TextAsync("#deliveries tbody tr .event"), StringComparison.Ordinal);
        Assert.StartsWith("200 in", await TextAsync("#deliveries tbody tr .last"), StringComparison.Ordinal);
        await Browser.ScreenshotAsync(Path.Combine(Artifacts, "console-webhook-details.png"));

        await Browser.ClickAsync("#deliveries tbody tr .redeliver");
        Assert.Equal("Redelivery queued.", await TextAsync("#notice"));
        await Poll.UntilAsync(() => Task.FromResult(fixture.Receiver.To(name).Count == 2), TimeSpan.FromSeconds(30));
        Assert.Equal(received.EventId, fixture.Receiver.To(name)[1].EventId);

        await Browser.ClickAsync("#rotate-secret");
        var rotated = await TextAsync("#new-secret");
        Assert.Null(await Browser.TryFindAsync("#notice")); // the earlier page's notice is not repeated under the new secret
        Assert.StartsWith("whsec_", rotated, StringComparison.Ordinal);
        Assert.NotEqual(secret, rotated);
        Assert.Contains("stops signing", await TextAsync("#webhook-secrets"), StringComparison.Ordinal);

        await Browser.ClickAsync("#event-link-unhealthy");
        await Browser.ClickAsync("#save-webhook");
        await Browser.WaitForUrlAsync(u => u.EndsWith("?notice=saved", StringComparison.Ordinal));
        Assert.Equal("Changes saved.", await TextAsync("#notice"));
        Assert.Equal("payment.settled, link.unhealthy", await TextAsync("#webhook-events"));
        Assert.Equal("yes", await TextAsync("#webhook-enabled"));
        await Browser.ClickAsync("#enabled");
        await Browser.ClickAsync("#save-webhook");
        // The same URL again: wait for the new page's content rather than the address.
        await Poll.UntilAsync(async () => await TextAsync("#webhook-enabled") == "no", TimeSpan.FromSeconds(30));

        await Browser.ClickAsync("#delete-webhook");
        Assert.Equal("Endpoint deleted.", await TextAsync("#deleted-notice"));
        Assert.NotNull(await Browser.TryFindAsync("#no-webhooks"));
    }

    [Fact]
    public async Task Another_organisation_cannot_open_or_act_on_an_endpoint_and_every_form_needs_its_token()
    {
        var owner = fixture.Gateway.Client(await NewOrganisationKeyAsync());
        var name = "consoleiso" + Guid.NewGuid().ToString("N")[..8];
        var (id, _) = await fixture.NewEndpointAsync(owner, name);
        using var other = await ConsoleSession.SignedInAsync(fixture.Gateway, await NewOrganisationKeyAsync());

        var (status, html) = await other.GetAsync($"/console/webhooks/{id}");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.DoesNotContain(fixture.Receiver.Url(name), html, StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.Receiver.Url(name), (await other.GetAsync("/console/webhooks")).Html, StringComparison.Ordinal);
        foreach (var form in new[] { "send-test", "rotate-secret", "delete-webhook" })
        {
            using var response = await other.PostFormAsync($"/console/webhooks/{id}", form, [], tokenFrom: "/console/webhooks");
            Assert.True((int)response.StatusCode is 400 or 404, $"{form}: {(int)response.StatusCode}");
        }
        Assert.Empty(fixture.Receiver.To(name));
        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync($"/api/webhooks/{id}")).StatusCode);

        using var mine = await ConsoleSession.SignedInAsync(fixture.Gateway, await NewOrganisationKeyAsync());
        using var noToken = await mine.PostFormAsync("/console/webhooks", "new-webhook",
            new() { ["Input.Url"] = fixture.Receiver.Url(name), ["Input.PaymentSettled"] = "true" }, withToken: false);
        Assert.Equal(HttpStatusCode.BadRequest, noToken.StatusCode);
        Assert.Empty((await mine.GetAsync("/console/webhooks")).Html.Split("id=\"webhook-")[1..]);
    }

    // A click that navigates returns before the next page loads: the driver finds an element gone stale again.
    private Task<string> TextAsync(string css) => Browser.TextAsync(css);

    private async Task<string> NewOrganisationKeyAsync()
    {
        using var response = await fixture.Gateway.Admin.PostAsJsonAsync("/api/organisations", new { name = "Hooks " + Guid.NewGuid().ToString("N")[..6] });
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
    }

    private async Task SignInAsync(string key)
    {
        await Browser.NavigateAsync(fixture.Gateway.BaseUrl + "/console/console.css");
        await Browser.DeleteCookiesAsync();
        await Browser.NavigateAsync(fixture.Gateway.BaseUrl + "/console/login");
        await Browser.FillAsync("#key", key);
        await Browser.ClickAsync("#sign-in");
        Assert.NotNull(await Browser.TryFindAsync("#sign-out"));
    }
}
