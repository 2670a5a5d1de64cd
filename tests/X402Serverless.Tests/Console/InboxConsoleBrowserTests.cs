using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Inbox;
using X402Serverless.Core.Money;
using X402Serverless.Core.Ports;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.ProviderConsole;

/// <summary>An inbox owner in a real headless Chromium: create an inbox, read its messages and earnings, refund, block.</summary>
public sealed class InboxConsoleBrowserTests(ConsoleBrowserFixture fixture) : IClassFixture<ConsoleBrowserFixture>
{
    private GatewayHost Gateway => fixture.Gateway;

    private WebDriver Browser => fixture.Browser;

    [Fact]
    public async Task An_inbox_is_created_its_messages_read_one_refunded_and_its_sender_blocked_and_another_organisation_sees_none()
    {
        var (key, api) = await fixture.NewOrganisationAsync("Inbox Owner");
        api.Dispose();
        await SignInAsync(key);
        await Browser.ClickAsync("#nav-new-inbox");
        await Browser.FillAsync("#name", "Write to me");
        await Browser.FillAsync("#deliverTo", "not an address");
        await Browser.FillAsync("#price", "0.30");
        await Browser.FillAsync("#payTo", ConsoleFixture.PayTo);
        await Browser.ClickAsync("#accept-x402");
        await Browser.ClickAsync("#create-inbox");
        Assert.Contains("email address", await Browser.TextAsync(".field-error[data-field='inbox.deliverTo']"), StringComparison.Ordinal);

        await Browser.FillAsync("#deliverTo", "me@example.com");
        await Browser.ClickAsync("#create-inbox");
        Assert.Contains("Inbox created", await Browser.TextAsync("#created-notice"), StringComparison.Ordinal);
        var url = await Browser.CurrentUrlAsync();
        var linkId = url.Split("/console/links/")[1].Split('/')[0];
        Assert.Equal("me@example.com", await Browser.TextAsync("#inbox-deliver-to"));
        Assert.Equal("0.30", await Browser.TextAsync("#inbox-price"));
        Assert.StartsWith("No messages", await Browser.TextAsync("#no-messages"), StringComparison.Ordinal);

        // A paid x402 message, delivered, as the paid path and the delivery job leave it (they are tested on their own).
        var store = Gateway.Services.GetRequiredService<IInboxMessageStore>();
        var organisation = (await Gateway.Services.GetRequiredService<ILinkStore>().FindAsync(linkId, default))!.OrganisationId;
        var now = DateTimeOffset.UtcNow;
        var message = new InboxMessage
        {
            Id = "msg_" + Convert.ToBase64String(Guid.NewGuid().ToByteArray()).TrimEnd('=').Replace('+', '-').Replace('/', '_'),
            LinkId = linkId, OrganisationId = organisation, DeliverTo = "me@example.com", Subject = "<script>alert(1)</script> Hello",
            Body = "<b>plain</b> text", ReplyTo = "stranger@example.org", Status = MessageStatuses.Delivered, NextAttemptAt = now,
            PaidWith = "x402", Amount = Usd.FromMicros(300_000), Payer = "0x1111111111111111111111111111111111111111",
            PaymentId = "pay_test", CreatedAt = now, UpdatedAt = now, DeliveredAt = now,
        };
        await store.AddAsync(message, default);
        await store.AddTotalsAsync(linkId, new InboxTotals(1, message.Amount, Usd.Zero, Usd.Zero), default);

        await Browser.NavigateAsync($"{Gateway.BaseUrl}/console/links/{linkId}/messages");
        Assert.Equal("1", await Browser.TextAsync("#inbox-messages-count"));
        Assert.Equal("0.30", await Browser.TextAsync("#inbox-earned"));
        Assert.Equal("<script>alert(1)</script> Hello", await Browser.TextAsync($"#message-{message.Id} .subject"));
        Assert.Equal("stranger@example.org", await Browser.TextAsync($"#message-{message.Id} .reply-to"));
        Assert.Equal("0.30 (x402)", await Browser.TextAsync($"#message-{message.Id} .paid"));
        Assert.Equal("delivered", await Browser.TextAsync($"#message-{message.Id} .status"));

        await Browser.ClickAsync($"#message-{message.Id} .subject a");
        Assert.Equal("<b>plain</b> text", await Browser.TextAsync("#message-body"));
        Assert.Null(await Browser.TryFindAsync("#message-body b"));
        await Browser.ClickAsync("#refund-message");
        Assert.Equal("Refund recorded.", await Browser.TextAsync("#action-notice"));
        Assert.Equal("delivered · refund owed", await Browser.TextAsync("#message-status"));
        Assert.Null(await Browser.TryFindAsync("#refund-message"));
        await Browser.ClickAsync("#block-sender");
        // The refund's notice is on the page until the block's answer replaces it.
        await Browser.WaitForUrlAsync(u => u.EndsWith("done=blocked", StringComparison.Ordinal));
        Assert.Equal("Sender blocked.", await Browser.TextAsync("#action-notice"));
        Assert.Null(await Browser.TryFindAsync("#block-sender"));

        await Browser.ClickAsync("#back-to-inbox");
        Assert.Equal("0.30", await Browser.TextAsync("#inbox-owed"));
        Assert.Equal("0.00", await Browser.TextAsync("#inbox-earned"));
        var blocked = (await (await Browser.FindAsync("#block")).PropertyAsync("value"))!.Split('\n');
        Assert.Equal(["0x1111111111111111111111111111111111111111", "stranger@example.org"], blocked.Order());
        Assert.Equal("0.30", await Browser.TextAsync("#inbox-paid"));

        var (otherKey, otherApi) = await fixture.NewOrganisationAsync("Not The Owner");
        otherApi.Dispose();
        await SignInAsync(otherKey);
        await Browser.NavigateAsync($"{Gateway.BaseUrl}/console/links/{linkId}/messages");
        Assert.NotNull(await Browser.TryFindAsync("#not-found"));
        Assert.DoesNotContain("stranger@example.org", await Browser.PageSourceAsync(), StringComparison.Ordinal);
        await Browser.NavigateAsync($"{Gateway.BaseUrl}/console/links/{linkId}/messages/{message.Id}");
        Assert.NotNull(await Browser.TryFindAsync("#not-found"));
        Assert.DoesNotContain("plain", await Browser.PageSourceAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_browser_writes_through_the_compose_form_without_script_paying_from_credits()
    {
        var (_, api) = await fixture.NewOrganisationAsync("Compose Owner");
        using (api)
        {
            var (linkId, url) = await Gateway.CreateLinkAsync(new
            {
                name = "Ask me", price = "0.10", payTo = ConsoleFixture.PayTo, accepts = new[] { "credits" }, inbox = new { deliverTo = "me@example.com" },
            }, api);
            using var created = await api.PostAsJsonAsync("/api/payers", new { name = "Browser sender" });
            var payer = await created.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
            var payerId = payer.GetProperty("payer").GetProperty("id").GetString()!;
            var ledger = Gateway.Services.GetRequiredService<X402Serverless.Core.Ports.ILedger>();
            await ledger.PostAsync(X402Serverless.Core.Ledger.LedgerEntry.Transfer($"test-fund:{Guid.NewGuid():N}", "topup",
                X402Serverless.Core.Ledger.Accounts.CardClearing, X402Serverless.Core.Ledger.Accounts.Credits(payerId), Usd.FromMicros(1_000_000)), [], default);

            await Browser.NavigateAsync(url);
            Assert.Equal("Ask me", await Browser.TextAsync("#inbox-name"));
            Assert.Contains("$0.10", await Browser.TextAsync("#inbox-price"), StringComparison.Ordinal);
            await Browser.FillAsync("#subject", "Sent from Chromium");
            await Browser.FillAsync("#body", "Hello <there>");
            await Browser.FillAsync("#replyTo", "reader@example.org");
            await Browser.FillAsync("#payerKey", payer.GetProperty("key").GetString()!);
            await Browser.ClickAsync("#send");

            Assert.Equal("Message paid and queued for delivery", await Browser.TextAsync("#sent"));
            var receipt = await Browser.TextAsync("#receipt");
            var stored = (await Gateway.Services.GetRequiredService<IInboxMessageStore>().GetAsync(receipt, default))!;
            Assert.Equal((linkId, "Sent from Chromium", "Hello <there>", "reader@example.org"), (stored.LinkId, stored.Subject, stored.Body, stored.ReplyTo));
            Assert.Equal(900_000, (await ledger.BalanceAsync(X402Serverless.Core.Ledger.Accounts.Credits(payerId), default)).Micros);
        }
    }

    [Fact]
    public async Task An_inbox_posting_to_a_webhook_shows_its_signing_secret_once_and_refuses_a_private_address()
    {
        var (key, api) = await fixture.NewOrganisationAsync("Hook Owner");
        api.Dispose();
        await SignInAsync(key);
        await Browser.ClickAsync("#nav-new-inbox");
        await Browser.FillAsync("#name", "Hooked");
        await Browser.FillAsync("#webhookUrl", "http://10.1.2.3/inbox");
        await Browser.FillAsync("#price", "0.30");
        await Browser.FillAsync("#payTo", ConsoleFixture.PayTo);
        await Browser.ClickAsync("#create-inbox");
        Assert.NotEmpty(await Browser.TextAsync(".field-error[data-field='inbox.webhookUrl']"));
        Assert.Null(await Browser.TryFindAsync("#secret-once"));

        // No address: the webhook alone (a loopback receiver, which this test gateway allows).
        await Browser.FillAsync("#webhookUrl", "http://127.0.0.1:9/inbox");
        await Browser.ClickAsync("#create-inbox");
        var secret = await Browser.TextAsync("#new-secret");
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        var inboxPage = (await (await Browser.FindAsync("#open-inbox")).PropertyAsync("href"))!;
        var linkId = inboxPage.Split("/console/links/")[1].Split('/')[0];
        var stored = (await Gateway.Services.GetRequiredService<ILinkStore>().FindAsync(linkId, default))!.Inbox!;
        Assert.Equal(secret, Gateway.Services.GetRequiredService<ISecretSealer>().Unseal(Assert.Single(stored.WebhookSecrets).Sealed));

        await Browser.NavigateAsync(inboxPage);
        Assert.Equal("http://127.0.0.1:9/inbox", await Browser.TextAsync("#inbox-webhook"));
        Assert.DoesNotContain(secret, await Browser.PageSourceAsync(), StringComparison.Ordinal);
        await Browser.NavigateAsync($"{Gateway.BaseUrl}/console/links/{linkId}");
        Assert.DoesNotContain(secret, await Browser.PageSourceAsync(), StringComparison.Ordinal);

        // Rotating: a new secret shown once; the first keeps signing for the grace period.
        await Browser.NavigateAsync(inboxPage);
        await Browser.ClickAsync("#rotate-inbox-secret");
        var rotated = await Browser.TextAsync("#new-secret");
        Assert.StartsWith("whsec_", rotated, StringComparison.Ordinal);
        Assert.NotEqual(secret, rotated);
        var secrets = (await Gateway.Services.GetRequiredService<ILinkStore>().FindAsync(linkId, default))!.Inbox!.WebhookSecrets;
        Assert.Equal(2, secrets.Count);
        Assert.NotNull(secrets[0].ExpiresAt);
        Assert.Equal(rotated, Gateway.Services.GetRequiredService<ISecretSealer>().Unseal(secrets[1].Sealed));
        await Browser.NavigateAsync(inboxPage);
        Assert.DoesNotContain(rotated, await Browser.PageSourceAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_owner_sells_a_pass_on_an_inbox_from_its_link_page_and_a_bad_one_is_reported_by_its_field()
    {
        var (key, api) = await fixture.NewOrganisationAsync("Inbox Pass Seller");
        string linkId;
        using (api)
        {
            using var created = await api.PostAsJsonAsync("/api/links", new
            {
                name = "Write to me", price = "0.25", payTo = ConsoleFixture.PayTo, accepts = new[] { "credits" }, inbox = new { deliverTo = "me@example.com" },
            });
            linkId = (await created.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("id").GetString()!;
        }
        await SignInAsync(key);
        await Browser.NavigateAsync($"{Gateway.BaseUrl}/console/links/{linkId}");
        Assert.Equal("Messages", await Browser.TextAsync("label[for=passCalls]"));

        await Browser.FillAsync("#passPrice", "0");
        await Browser.FillAsync("#passCalls", "5");
        await Browser.ClickAsync("#save-link");
        Assert.NotNull(await Browser.TryFindAsync(".field-error[data-field='pass.price'][data-code=invalid_pass]"));

        await Browser.FillAsync("#passPrice", "2.00");
        await Browser.FillAsync("#passCalls", "10");
        await Browser.FillAsync("#passMinutes", "1440");
        await Browser.ClickAsync("#save-link");
        Assert.Equal("Changes saved.", await Browser.TextAsync("#saved-notice"));
        var offer = (await Gateway.Services.GetRequiredService<ILinkStore>().FindAsync(linkId, default))!.Pass!;
        Assert.Equal((Usd.Parse("2.00"), 10, 1440), (offer.Price, offer.Calls, offer.Minutes));
        Assert.NotNull(await Browser.TryFindAsync("#no-passes"));
    }

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
