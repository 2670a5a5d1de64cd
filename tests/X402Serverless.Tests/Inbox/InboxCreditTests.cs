using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using X402Serverless.Core.Inbox;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Links;
using X402Serverless.Core.Money;
using static X402Serverless.Tests.Inbox.InboxFixture;

namespace X402Serverless.Tests.Inbox;

/// <summary>Paid inbox links paid from credits, delivered to a real SMTP server: the charge, the mail, retries, refunds, refusals.</summary>
public sealed class InboxCreditTests(InboxFixture fixture) : IClassFixture<InboxFixture>
{
    private static string Address(string prefix = "owner") => $"{prefix}-{Guid.NewGuid():N}@example.com";

    [Fact]
    public async Task An_unpaid_message_gets_402_and_a_paid_one_is_mailed_once_with_safe_headers_and_charged_once()
    {
        using var org = await fixture.NewOrganisationAsync();
        var owner = Address();
        var (linkId, url) = await NewInboxAsync(org, owner);
        var payer = await NewPayerAsync(org);
        await fixture.FundAsync(Accounts.Credits(payer.Id), 1_000_000);
        var message = new { subject = "Hello from a stranger", body = "<b>not bold</b>\nSecond line", replyTo = "sender@example.org" };

        using (var unpaid = await SendAsync(url, message))
        {
            Assert.Equal(402, (int)unpaid.StatusCode);
        }
        using var paid = await SendAsync(url, message, payer.Key);
        Assert.Equal(202, (int)paid.StatusCode);
        Assert.Equal("0.25", paid.Headers.GetValues("X-Charged").Single());
        var accepted = await paid.Content.ReadFromJsonAsync<JsonElement>();
        var receipt = accepted.GetProperty("receipt").GetString()!;
        var receiptUrl = accepted.GetProperty("receiptUrl").GetString()!;
        Assert.Equal(receiptUrl, paid.Headers.Location!.ToString());
        Assert.Matches("^msg_[A-Za-z0-9_-]{22}$", receipt);

        var delivered = await WaitForStatusAsync(receiptUrl, MessageStatuses.Delivered);
        Assert.Equal(receipt, delivered.GetProperty("receipt").GetString());
        // The receipt tells the status, nothing about the message, the owner or the payer.
        Assert.Equal(["createdAt", "deliveredAt", "receipt", "refundOwed", "refunded", "status"], delivered.EnumerateObject().Select(p => p.Name).Order());

        var mail = Assert.Single(fixture.Smtp.To(owner));
        Assert.Equal("Hello from a stranger", mail.Subject);
        Assert.Equal("sender@example.org", Assert.Single(mail.ReplyTo.Mailboxes).Address);
        Assert.Equal("inbox@gateway.test", Assert.Single(mail.From.Mailboxes).Address);
        Assert.Equal($"{receipt}@gateway.test", mail.MessageId);
        Assert.Equal(linkId, mail.Headers["X-Inbox-Link"]);
        Assert.Equal("0.25 USD (credits)", mail.Headers["X-Inbox-Paid"]);
        var part = Assert.IsType<TextPart>(mail.Body);
        Assert.True(part.IsPlain);
        Assert.Null(mail.HtmlBody);
        Assert.Equal("<b>not bold</b>\nSecond line", mail.TextBody!.Replace("\r\n", "\n").TrimEnd('\n'));

        Assert.Equal(750_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);
        var earnings = await fixture.Ledger.BalanceAsync(Accounts.Earnings(await OrganisationOfAsync(linkId)), default);
        Assert.Equal(247_500, earnings.Micros);
    }

    [Theory]
    [InlineData("subject", "Hi\r\nBcc: victim@example.com", "header_injection")]
    [InlineData("subject", "Hi\nBcc: victim@example.com", "header_injection")]
    [InlineData("subject", "Hi\u2028Bcc: victim@example.com", "header_injection")]
    [InlineData("replyTo", "me@example.org\r\nBcc: victim@example.com", "header_injection")]
    [InlineData("replyTo", "me@example.org\nTo: victim@example.com", "header_injection")]
    [InlineData("replyTo", "Evil <me@example.org>", "invalid_reply_to")]
    [InlineData("replyTo", "me@example.org, victim@example.com", "invalid_reply_to")]
    [InlineData("replyTo", "not an address", "invalid_reply_to")]
    [InlineData("subject", "", "invalid_subject")]
    public async Task A_header_injection_or_a_bad_address_is_refused_with_its_code_and_nothing_is_charged(string field, string value, string code)
    {
        using var org = await fixture.NewOrganisationAsync();
        var (_, url) = await NewInboxAsync(org, Address());
        var payer = await NewPayerAsync(org);
        await fixture.FundAsync(Accounts.Credits(payer.Id), 1_000_000);
        var message = new Dictionary<string, string> { ["subject"] = "Hi", ["body"] = "Hello", ["replyTo"] = "me@example.org" };
        message[field] = value;

        using var response = await SendAsync(url, message, payer.Key);
        Assert.Equal(400, (int)response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(code, problem.GetProperty("code").GetString());
        Assert.Equal(1_000_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);
    }

    [Fact]
    public async Task Too_large_unknown_fields_and_non_json_messages_are_refused_before_any_charge()
    {
        using var org = await fixture.NewOrganisationAsync();
        var (_, url) = await NewInboxAsync(org, Address(), inboxExtra: new { maxMessageBytes = 512 });
        var payer = await NewPayerAsync(org);
        await fixture.FundAsync(Accounts.Credits(payer.Id), 1_000_000);

        using (var large = await SendAsync(url, new { subject = "Hi", body = new string('x', 600) }, payer.Key))
        {
            Assert.Equal(413, (int)large.StatusCode);
            Assert.Equal("message_too_large", (await large.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        }
        using (var unknown = await SendAsync(url, new { subject = "Hi", body = "x", cc = "y" }, payer.Key))
        {
            Assert.Equal("unknown_field", (await unknown.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        }
        using (var client = new HttpClient())
        using (var text = await client.PostAsync(url, new StringContent("subject: hi", System.Text.Encoding.UTF8, "text/plain")))
        {
            Assert.Equal(415, (int)text.StatusCode);
        }
        using (var get = await new HttpClient().GetAsync(url))
        {
            Assert.Equal(405, (int)get.StatusCode);
        }
        Assert.Equal(1_000_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);
    }

    [Fact]
    public async Task A_server_refusing_with_5xx_fails_the_message_after_one_attempt_and_the_sender_is_not_charged()
    {
        using var org = await fixture.NewOrganisationAsync();
        var owner = Address("refuse");
        var (linkId, url) = await NewInboxAsync(org, owner);
        var payer = await NewPayerAsync(org);
        await fixture.FundAsync(Accounts.Credits(payer.Id), 1_000_000);

        using var paid = await SendAsync(url, new { subject = "Hi", body = "Hello" }, payer.Key);
        Assert.Equal(202, (int)paid.StatusCode);
        var receiptUrl = (await paid.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("receiptUrl").GetString()!;
        var failed = await WaitForRefundAsync(receiptUrl);
        Assert.True(failed.GetProperty("refunded").GetBoolean());
        Assert.False(failed.GetProperty("refundOwed").GetBoolean());

        Assert.Equal(1, fixture.Smtp.Attempts[owner]);
        Assert.Empty(fixture.Smtp.To(owner));
        Assert.Equal(1_000_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);
        Assert.Equal(0, (await fixture.Ledger.BalanceAsync(Accounts.Earnings(await OrganisationOfAsync(linkId)), default)).Micros);
        var trial = await fixture.Gateway.Admin.GetFromJsonAsync<JsonElement>("/api/ledger/trial-balance");
        Assert.True(trial.GetProperty("consistent").GetBoolean());
    }

    [Fact]
    public async Task A_server_deferring_with_4xx_is_retried_and_the_message_delivered_once_when_it_accepts_charged_once()
    {
        using var org = await fixture.NewOrganisationAsync();
        var owner = Address();
        fixture.Smtp.Deferred[owner] = 1;
        var (_, url) = await NewInboxAsync(org, owner);
        var payer = await NewPayerAsync(org);
        await fixture.FundAsync(Accounts.Credits(payer.Id), 1_000_000);

        using var paid = await SendAsync(url, new { subject = "Hi", body = "Hello" }, payer.Key);
        var receiptUrl = (await paid.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("receiptUrl").GetString()!;
        while (fixture.Smtp.Attempts.GetValueOrDefault(owner) < 3)
        {
            await Task.Delay(20);
        }
        Assert.Equal(MessageStatuses.Queued, (await new HttpClient().GetFromJsonAsync<JsonElement>(receiptUrl)).GetProperty("status").GetString());
        fixture.Smtp.Deferred.TryRemove(owner, out _);

        await WaitForStatusAsync(receiptUrl, MessageStatuses.Delivered);
        Assert.Single(fixture.Smtp.To(owner));
        Assert.Equal(750_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);
    }

    [Fact]
    public async Task Two_hundred_concurrent_sends_with_money_for_one_message_store_and_mail_exactly_one()
    {
        using var org = await fixture.NewOrganisationAsync();
        var owner = Address();
        var (_, url) = await NewInboxAsync(org, owner);
        var payer = await NewPayerAsync(org);
        await fixture.FundAsync(Accounts.Credits(payer.Id), 250_000);

        using var start = new ManualResetEventSlim();
        var sends = Enumerable.Range(0, 200).Select(i => Task.Run(async () =>
        {
            start.Wait();
            using var response = await SendAsync(url, new { subject = $"Hi {i}", body = "Hello" }, payer.Key);
            return (Status: (int)response.StatusCode, Receipt: response.StatusCode == System.Net.HttpStatusCode.Accepted
                ? (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("receiptUrl").GetString() : null);
        })).ToList();
        start.Set();
        var results = await Task.WhenAll(sends);

        Assert.Equal(1, results.Count(r => r.Status == 202));
        Assert.Equal(199, results.Count(r => r.Status == 402));
        await WaitForStatusAsync(results.Single(r => r.Status == 202).Receipt!, MessageStatuses.Delivered);
        Assert.Single(fixture.Smtp.To(owner));
        Assert.Equal(0, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);
    }

    [Fact]
    public async Task A_delivery_job_run_many_times_at_once_or_again_later_mails_the_message_once()
    {
        var owner = Address();
        var now = DateTimeOffset.UtcNow;
        // Due only far ahead, so the background worker leaves it to this test's job runs.
        var message = new InboxMessage
        {
            Id = "msg_" + Guid.NewGuid().ToString("N")[..22], LinkId = "lnk_direct", OrganisationId = "org_direct", DeliverTo = owner,
            Subject = "Once", Body = "Only once", Status = MessageStatuses.Queued, NextAttemptAt = now.AddDays(1),
            PaidWith = PaymentTypes.Credits, Amount = Usd.FromMicros(1), CreatedAt = now, UpdatedAt = now,
        };
        await fixture.Messages.AddAsync(message, default);
        var delivery = fixture.Gateway.Services.GetRequiredService<X402Serverless.Handler.Inbox.InboxDelivery>();

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Task.Run(() => delivery.RunAsync(message, default))));
        Assert.Equal(1, outcomes.Count(o => o == "delivered"));
        Assert.Equal(MessageStatuses.Delivered, (await fixture.Messages.GetAsync(message.Id, default))!.Status);
        Assert.Equal("skipped: claimed elsewhere", await delivery.RunAsync(message, default));
        Assert.Equal("skipped: claimed elsewhere", await delivery.RunAsync((await fixture.Messages.GetAsync(message.Id, default))!, default));
        Assert.Single(fixture.Smtp.To(owner));
    }

    [Fact]
    public async Task An_allowed_payer_writes_free_but_an_allowed_address_claimed_as_reply_to_does_not()
    {
        using var org = await fixture.NewOrganisationAsync();
        var friend = await NewPayerAsync(org);
        var owner = Address();
        var (_, url) = await NewInboxAsync(org, owner, inboxExtra: new { allow = new[] { friend.Id, "friend@example.org" } });

        using var free = await SendAsync(url, new { subject = "Hi", body = "From a friend" }, friend.Key);
        Assert.Equal(202, (int)free.StatusCode);
        await WaitForStatusAsync((await free.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("receiptUrl").GetString()!, MessageStatuses.Delivered);
        Assert.Equal("free (allowed sender)", Assert.Single(fixture.Smtp.To(owner)).Headers["X-Inbox-Paid"]);

        // Anyone can type an address: it is not proof of who writes.
        using var claimed = await SendAsync(url, new { subject = "Hi", body = "Trust me", replyTo = "friend@example.org" });
        Assert.Equal(402, (int)claimed.StatusCode);
    }

    [Fact]
    public async Task A_receipt_reads_only_on_its_own_link_and_a_guessed_one_reads_as_missing()
    {
        using var org = await fixture.NewOrganisationAsync();
        var (_, url) = await NewInboxAsync(org, Address());
        var (_, other) = await NewInboxAsync(org, Address());
        var payer = await NewPayerAsync(org);
        await fixture.FundAsync(Accounts.Credits(payer.Id), 1_000_000);
        using var paid = await SendAsync(url, new { subject = "Hi", body = "Hello" }, payer.Key);
        var receipt = (await paid.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("receipt").GetString()!;

        using var client = new HttpClient();
        Assert.Equal(200, (int)(await client.GetAsync($"{url}/receipts/{receipt}")).StatusCode);
        Assert.Equal(404, (int)(await client.GetAsync($"{other}/receipts/{receipt}")).StatusCode);
        Assert.Equal(404, (int)(await client.GetAsync($"{url}/receipts/msg_AAAAAAAAAAAAAAAAAAAAAA")).StatusCode);
        Assert.Equal(404, (int)(await client.GetAsync($"{url}/receipts/' OR 1=1 --")).StatusCode);
    }

    [Fact]
    public async Task The_management_api_creates_shows_and_refuses_inboxes_by_their_rules()
    {
        using var org = await fixture.NewOrganisationAsync();
        var (id, _) = await NewInboxAsync(org, "owner@example.com", inboxExtra: new { autoReply = "Thanks", allow = new[] { "0x209693BC6afc0C5328bA36FaF03C514EF312287C" } });
        var view = await org.GetFromJsonAsync<JsonElement>($"/api/links/{id}");
        var inbox = view.GetProperty("inbox");
        Assert.Equal("owner@example.com", inbox.GetProperty("deliverTo").GetString());
        Assert.Equal("0x209693bc6afc0c5328ba36faf03c514ef312287c", inbox.GetProperty("allow")[0].GetString());
        Assert.Equal(["POST"], view.GetProperty("methods").EnumerateArray().Select(m => m.GetString()));

        async Task<string?> RefusedAsync(object body)
        {
            using var response = await org.PostAsJsonAsync("/api/links", body);
            Assert.Equal(400, (int)response.StatusCode);
            return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString();
        }
        Assert.Equal("invalid_inbox_address", await RefusedAsync(new { price = "0.1", payTo = PayTo, inbox = new { deliverTo = "owner@example.com\r\nBcc: x@example.com" } }));
        Assert.Equal("invalid_inbox_address", await RefusedAsync(new { price = "0.1", payTo = PayTo, inbox = new { deliverTo = "Owner <owner@example.com>" } }));
        Assert.Equal("inbox_has_no_upstream", await RefusedAsync(new { price = "0.1", payTo = PayTo, upstream = "https://example.com", inbox = new { deliverTo = "owner@example.com" } }));
        Assert.Equal("invalid_inbox_size", await RefusedAsync(new { price = "0.1", payTo = PayTo, inbox = new { deliverTo = "owner@example.com", maxMessageBytes = 10_000_000 } }));
        Assert.Equal("invalid_inbox_allow", await RefusedAsync(new { price = "0.1", payTo = PayTo, inbox = new { deliverTo = "owner@example.com", allow = new[] { "someone" } } }));

        using var patch = await org.PatchAsJsonAsync($"/api/links/{id}", new { upstream = "https://example.com" });
        Assert.Equal(400, (int)patch.StatusCode);
        using var price = await org.PatchAsJsonAsync($"/api/links/{id}", new { price = "0.5", inbox = new { autoReply = "" } });
        Assert.Equal(200, (int)price.StatusCode);
        var changed = await org.GetFromJsonAsync<JsonElement>($"/api/links/{id}");
        Assert.Equal("0.50", changed.GetProperty("price").GetString());
        Assert.Equal(JsonValueKind.Null, changed.GetProperty("inbox").GetProperty("autoReply").ValueKind);
    }

    private async Task<string> OrganisationOfAsync(string linkId) =>
        (await fixture.Gateway.Services.GetRequiredService<Core.Ports.ILinkStore>().FindAsync(linkId, default))!.OrganisationId;
}
