using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Inbox;
using X402Serverless.Core.Ports;
using X402Serverless.Tests.Passes;
using X402Serverless.Tests.Stripe;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Inbox;

/// <summary>An inbox that sells a pass by card, delivering to a real SMTP server: Stripe is the fake API hosting its checkout page.</summary>
public sealed class InboxCardFixture : IAsyncLifetime
{
    internal GatewayHost Gateway { get; private set; } = null!;

    internal TestSmtpServer Smtp { get; private set; } = null!;

    internal FakeStripeApi Stripe { get; private set; } = null!;

    internal IPassStore Passes => Gateway.Services.GetRequiredService<IPassStore>();

    public async Task InitializeAsync()
    {
        Smtp = await TestSmtpServer.StartAsync();
        Stripe = await FakeStripeApi.StartAsync(hostsCheckout: true);
        Gateway = await InboxFixture.StartGatewayAsync(Smtp.Port, new Dictionary<string, string?>
        {
            ["X402:Stripe:SecretKey"] = "sk_test_gateway_secret_key",
            ["X402:Stripe:WebhookSecret"] = CardPassFixture.WebhookSecret,
            ["X402:Stripe:ApiBase"] = Stripe.Url,
            ["X402:Stripe:CheckoutOrigin"] = Stripe.Url,
        });
    }

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Smtp.DisposeAsync();
        await Stripe.DisposeAsync();
    }

    internal async Task<HttpResponseMessage> DeliverAsync(string payload)
    {
        using var client = Gateway.Client();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/stripe") { Content = new StringContent(payload, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Stripe-Signature", await CardPassFixture.SignAsync(payload));
        return await client.SendAsync(request);
    }
}

/// <summary>
/// The inbox's compose page in Chromium with script off: its card form opens a Stripe Checkout for the inbox's pass,
/// the signed webhook issues the pass, the return page shows the key once with the compose form ready, and the
/// message sent there is paid by the pass and mailed once; the compose page itself then sends with the typed key.
/// </summary>
public sealed class InboxCardTests(InboxCardFixture fixture) : IClassFixture<InboxCardFixture>
{
    [Fact]
    public async Task With_script_off_a_sender_buys_an_inbox_pass_by_card_and_sends_with_it_one_mail_per_message()
    {
        using var org = await InboxFixtureOrganisationAsync();
        var owner = $"owner-{Guid.NewGuid():N}@example.com";
        using var created = await org.PostAsJsonAsync("/api/links", new
        {
            name = "Write to me", price = "0.25", payTo = InboxFixture.PayTo, accepts = new[] { "credits" },
            inbox = new { deliverTo = owner }, pass = new { price = "3.00", calls = 2 },
        });
        var link = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(created.IsSuccessStatusCode, link.ToString());
        var (linkId, url) = (link.GetProperty("id").GetString()!, link.GetProperty("url").GetString()!);

        // The page's policy lets its forms post here and, for the card form's redirect, to Stripe's checkout only.
        using (var client = new HttpClient())
        using (var request = new HttpRequestMessage(HttpMethod.Get, url))
        {
            request.Headers.Accept.ParseAdd("text/html");
            using var page = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            var csp = page.Headers.GetValues("Content-Security-Policy").Single();
            Assert.Contains($"form-action 'self' {fixture.Stripe.Url};", csp, StringComparison.Ordinal);
            Assert.Contains("default-src 'none'", csp, StringComparison.Ordinal);
            Assert.DoesNotContain("script-src", csp, StringComparison.Ordinal);
        }

        await using var browser = await WebDriver.StartAsync();
        await browser.DevToolsAsync("Emulation.setScriptExecutionDisabled", new JsonObject { ["value"] = true });
        await browser.NavigateAsync(url);
        Assert.Contains("2 messages", await browser.TextAsync("#card"), StringComparison.Ordinal);
        Assert.NotNull(await browser.TryFindAsync("#compose"));
        await browser.ClickAsync("#card-buy");
        await browser.WaitForUrlAsync(u => u.StartsWith(fixture.Stripe.Url + "/c/pay/cs_test_", StringComparison.Ordinal));
        var sent = fixture.Stripe.Sessions.Single(s => s.Form.GetValueOrDefault("client_reference_id") == linkId);
        Assert.Equal("300", sent.Form["line_items[0][price_data][unit_amount]"]);
        Assert.Equal(url, sent.Form["cancel_url"]);

        // Stripe's signed webhook (official stripe package) completes the checkout; the buyer comes back.
        using (var delivered = await fixture.DeliverAsync(CardPassFixture.CompletedEvent("evt_" + sent.Id, sent.Id, 300)))
        {
            Assert.Equal(HttpStatusCode.OK, delivered.StatusCode);
        }
        await browser.NavigateAsync($"{fixture.Gateway.BaseUrl}/pass/{linkId}/card/done?session_id={sent.Id}");
        var key = await Poll.UntilAsync(async () => await browser.TryFindAsync("#payer-key") is { } shown ? await shown.TextAsync() : null, TimeSpan.FromSeconds(60));
        Assert.StartsWith("x402pk_", key, StringComparison.Ordinal);
        Assert.Equal("2 messages left", await browser.TextAsync("#pass-left"));

        // The return page carries the compose form, the new key filled in: the message is paid by the pass.
        await browser.FillAsync("#subject", "Bought a pass by card");
        await browser.FillAsync("#body", "Hello from a card buyer");
        await browser.FillAsync("#replyTo", "buyer@example.org");
        await browser.ClickAsync("#send");
        var receipt = await Poll.UntilAsync(async () => await browser.TryFindAsync("#receipt") is { } r ? await r.TextAsync() : null, TimeSpan.FromSeconds(60));
        await InboxFixture.WaitForStatusAsync($"{url}/receipts/{receipt}", MessageStatuses.Delivered);
        var mail = Assert.Single(fixture.Smtp.To(owner));
        Assert.Equal("Bought a pass by card", mail.Subject);
        var pass = Assert.Single(await fixture.Passes.ListForLinkAsync(linkId, 10, default));
        Assert.Equal($"pass {pass.Id}", mail.Headers["X-Inbox-Paid"]);
        Assert.Equal(1, pass.CallsLeft);

        // The compose page itself sends with the key typed in: the pass's last message, then the pass is spent.
        await browser.NavigateAsync(url);
        await browser.FillAsync("#subject", "Second message");
        await browser.FillAsync("#body", "Hello again");
        await browser.FillAsync("#payerKey", key);
        await browser.ClickAsync("#send");
        var second = await Poll.UntilAsync(async () => await browser.TryFindAsync("#receipt") is { } r ? await r.TextAsync() : null, TimeSpan.FromSeconds(60));
        Assert.NotEqual(receipt, second);
        await InboxFixture.WaitForStatusAsync($"{url}/receipts/{second}", MessageStatuses.Delivered);
        Assert.Equal(2, fixture.Smtp.To(owner).Count);
        Assert.Equal(0, (await fixture.Passes.GetAsync(linkId, pass.Id, default))!.CallsLeft);

        // The key was shown once: the return page no longer shows it, nor fills it in.
        await browser.NavigateAsync($"{fixture.Gateway.BaseUrl}/pass/{linkId}/card/done?session_id={sent.Id}");
        Assert.NotNull(await browser.TryFindAsync("#key-gone"));
        Assert.DoesNotContain(key, await browser.PageSourceAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_inbox_without_a_pass_or_without_stripe_shows_no_card_form()
    {
        using var org = await InboxFixtureOrganisationAsync();
        var (_, plain) = await InboxFixture.NewInboxAsync(org, $"owner-{Guid.NewGuid():N}@example.com");
        // A pass a card cannot charge (under Stripe's $0.50): no card form either.
        using var created = await org.PostAsJsonAsync("/api/links", new
        {
            name = "Cheap", price = "0.25", payTo = InboxFixture.PayTo, accepts = new[] { "credits" },
            inbox = new { deliverTo = $"owner-{Guid.NewGuid():N}@example.com" }, pass = new { price = "0.10", calls = 2 },
        });
        var cheap = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("url").GetString()!;
        foreach (var url in new[] { plain, cheap })
        {
            using var client = new HttpClient();
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Accept.ParseAdd("text/html");
            using var page = await client.SendAsync(request);
            var html = await page.Content.ReadAsStringAsync();
            Assert.DoesNotContain("id=\"card\"", html, StringComparison.Ordinal);
            Assert.Contains("id=\"compose\"", html, StringComparison.Ordinal);
            Assert.Contains("form-action 'self';", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        }
    }

    private async Task<HttpClient> InboxFixtureOrganisationAsync()
    {
        using var response = await fixture.Gateway.Admin.PostAsJsonAsync("/api/organisations", new { name = $"Org {Guid.NewGuid():N}" });
        return fixture.Gateway.Client((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString());
    }
}
