using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Inbox;
using X402Serverless.Core.Ledger;
using X402Serverless.Handler.Inbox;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.Inbox.InboxFixture;

namespace X402Serverless.Tests.Inbox;

/// <summary>An inbox owner's API: messages and earnings, refunds, blocking, the sweep that finishes interrupted refunds, per-sender limits.</summary>
public sealed class InboxOwnerTests(InboxFixture fixture) : IClassFixture<InboxFixture>
{
    private static string Address(string prefix = "owner") => $"{prefix}-{Guid.NewGuid():N}@example.com";

    private async Task<(HttpClient Org, string LinkId, string Url, (string Id, string Key) Payer)> InboxWithPayerAsync(object? inboxExtra = null)
    {
        var org = await fixture.NewOrganisationAsync();
        var (linkId, url) = await NewInboxAsync(org, Address(), inboxExtra: inboxExtra);
        var payer = await NewPayerAsync(org);
        await fixture.FundAsync(Accounts.Credits(payer.Id), 1_000_000);
        return (org, linkId, url, payer);
    }

    private static async Task<string> DeliveredAsync(string url, string key, string subject = "Hello", string replyTo = "sender@example.org")
    {
        using var sent = await SendAsync(url, new { subject, body = "Body", replyTo }, key);
        Assert.Equal(202, (int)sent.StatusCode);
        var accepted = await sent.Content.ReadFromJsonAsync<JsonElement>();
        await WaitForStatusAsync(accepted.GetProperty("receiptUrl").GetString()!, MessageStatuses.Delivered);
        return accepted.GetProperty("receipt").GetString()!;
    }

    [Fact]
    public async Task The_owner_lists_reads_and_refunds_a_message_once_and_earnings_follow_from_the_counters()
    {
        var (org, linkId, url, payer) = await InboxWithPayerAsync();
        using var _ = org;
        var first = await DeliveredAsync(url, payer.Key, "First");
        var second = await DeliveredAsync(url, payer.Key, "Second");

        var page = await org.GetFromJsonAsync<JsonElement>($"/api/links/{linkId}/messages?limit=1");
        var item = Assert.Single(page.GetProperty("items").EnumerateArray());
        Assert.Equal(second, item.GetProperty("receipt").GetString());
        Assert.Equal("Second", item.GetProperty("subject").GetString());
        Assert.Equal("sender@example.org", item.GetProperty("replyTo").GetString());
        Assert.Equal("0.25", item.GetProperty("amount").GetString());
        Assert.Equal("credits", item.GetProperty("paidWith").GetString());
        Assert.Equal(payer.Id, item.GetProperty("sender").GetString());
        Assert.False(item.TryGetProperty("body", out var _));
        var next = page.GetProperty("next").GetString()!;
        var older = await org.GetFromJsonAsync<JsonElement>($"/api/links/{linkId}/messages?limit=1&after={Uri.EscapeDataString(next)}");
        Assert.Equal(first, Assert.Single(older.GetProperty("items").EnumerateArray()).GetProperty("receipt").GetString());
        Assert.Equal("0.50", page.GetProperty("totals").GetProperty("paid").GetString());

        var read = await org.GetFromJsonAsync<JsonElement>($"/api/links/{linkId}/messages/{first}");
        Assert.Equal("Body", read.GetProperty("body").GetString());

        using (var refund = await org.PostAsync($"/api/links/{linkId}/messages/{first}/refund", null))
        {
            Assert.Equal(200, (int)refund.StatusCode);
            Assert.True((await refund.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("refunded").GetBoolean());
        }
        using (var again = await org.PostAsync($"/api/links/{linkId}/messages/{first}/refund", null))
        {
            Assert.Equal(200, (int)again.StatusCode);
        }
        // 1.00 - 0.50 paid + 0.25 back, once.
        Assert.Equal(750_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);
        var totals = (await org.GetFromJsonAsync<JsonElement>($"/api/links/{linkId}/messages")).GetProperty("totals");
        Assert.Equal(("2", "0.50", "0.25", "0.25"), (totals.GetProperty("messages").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture),
            totals.GetProperty("paid").GetString(), totals.GetProperty("refunded").GetString(), totals.GetProperty("kept").GetString()));
        Assert.All(await fixture.Ledger.TrialBalanceAsync(default), row => Assert.Equal(row.PostedSum, row.Balance));
    }

    [Fact]
    public async Task Another_organisations_key_and_a_plain_link_read_404_for_every_message_action()
    {
        var (org, linkId, url, payer) = await InboxWithPayerAsync();
        using var _ = org;
        var receipt = await DeliveredAsync(url, payer.Key);
        using var other = await fixture.NewOrganisationAsync();
        foreach (var (method, path) in new[]
        {
            (HttpMethod.Get, $"/api/links/{linkId}/messages"), (HttpMethod.Get, $"/api/links/{linkId}/messages/{receipt}"),
            (HttpMethod.Post, $"/api/links/{linkId}/messages/{receipt}/refund"), (HttpMethod.Post, $"/api/links/{linkId}/messages/{receipt}/block"),
        })
        {
            using var response = await other.SendAsync(new HttpRequestMessage(method, path));
            await ProblemAssert.IsAsync(response, 404, "not_found");
        }
        // The owner's own message under another of the owner's inboxes is not found either.
        var (otherInbox, _) = await NewInboxAsync(org, Address());
        using (var wrongLink = await org.GetAsync($"/api/links/{otherInbox}/messages/{receipt}"))
        {
            await ProblemAssert.IsAsync(wrongLink, 404, "not_found");
        }
        Assert.Equal(750_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);
    }

    [Fact]
    public async Task A_blocked_payer_or_reply_to_is_refused_403_before_payment_and_never_charged()
    {
        var (org, linkId, url, payer) = await InboxWithPayerAsync();
        using var _ = org;
        var receipt = await DeliveredAsync(url, payer.Key, replyTo: "pest@example.org");
        using (var block = await org.PostAsync($"/api/links/{linkId}/messages/{receipt}/block", null))
        {
            var blocked = (await block.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("block").EnumerateArray().Select(e => e.GetString()).Order().ToList();
            Assert.Equal([payer.Id.ToLowerInvariant(), "pest@example.org"], blocked);
        }
        using (var refused = await SendAsync(url, new { subject = "Again", body = "Hi", replyTo = "other@example.org" }, payer.Key))
        {
            await ProblemAssert.IsAsync(refused, 403, "sender_blocked");
        }
        // Another payer claiming the blocked reply-to is refused too; unblocked by a PATCH, it is taken.
        var second = await NewPayerAsync(org);
        await fixture.FundAsync(Accounts.Credits(second.Id), 1_000_000);
        using (var refused = await SendAsync(url, new { subject = "Hi", body = "Hi", replyTo = "PEST@example.org" }, second.Key))
        {
            await ProblemAssert.IsAsync(refused, 403, "sender_blocked");
        }
        Assert.Equal(750_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);
        Assert.Equal(1_000_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(second.Id), default)).Micros);
        using (var patch = await org.PatchAsJsonAsync($"/api/links/{linkId}", new { inbox = new { block = new[] { payer.Id } } }))
        {
            Assert.Equal(200, (int)patch.StatusCode);
        }
        await DeliveredAsync(url, second.Key, replyTo: "pest@example.org");
        using (var bad = await org.PatchAsJsonAsync($"/api/links/{linkId}", new { inbox = new { block = new[] { "not a sender" } } }))
        {
            await ProblemAssert.IsAsync(bad, 400, "invalid_inbox_block");
        }
    }

    [Fact]
    public async Task A_refund_cut_short_by_a_crash_is_finished_once_by_the_sweep()
    {
        var (org, linkId, url, payer) = await InboxWithPayerAsync();
        using var _ = org;
        var receipt = await DeliveredAsync(url, payer.Key);
        var delivered = (await fixture.Messages.GetAsync(receipt, default))!;
        // The crash: "failed" written, the refund not, long enough ago.
        var failed = delivered with { Status = MessageStatuses.Failed, UpdatedAt = DateTimeOffset.UtcNow.AddHours(-1) };
        Assert.True(await fixture.Messages.TryUpdateAsync(failed, MessageStatuses.Delivered, delivered.Attempts, default));
        var sweep = fixture.Gateway.Services.GetRequiredService<InboxRefundSweep>();

        await Task.WhenAll(sweep.RunAsync(default), sweep.RunAsync(default));
        await sweep.RunAsync(default);

        Assert.True((await fixture.Messages.GetAsync(receipt, default))!.Refunded);
        Assert.Equal(1_000_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);
        var totals = (await org.GetFromJsonAsync<JsonElement>($"/api/links/{linkId}/messages")).GetProperty("totals");
        Assert.Equal("0.25", totals.GetProperty("refunded").GetString());
    }

    [Fact]
    public async Task A_sender_over_the_per_payer_limit_gets_429_with_retry_after_by_reply_to_and_is_not_charged()
    {
        using var org = await fixture.NewOrganisationAsync();
        using var created = await org.PostAsJsonAsync("/api/links", new Dictionary<string, object?>
        {
            ["name"] = "Limited", ["price"] = "0.25", ["payTo"] = PayTo, ["accepts"] = new[] { "credits" },
            ["inbox"] = new { deliverTo = Address() }, ["rateLimit"] = new { perPayer = new { requests = 1, perSeconds = 3600 } },
        });
        var url = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("url").GetString()!;
        var one = await NewPayerAsync(org);
        var two = await NewPayerAsync(org);
        await fixture.FundAsync(Accounts.Credits(one.Id), 1_000_000);
        await fixture.FundAsync(Accounts.Credits(two.Id), 1_000_000);
        await DeliveredAsync(url, one.Key, replyTo: "same@example.org");

        // A second payer account, the same sender address: limited by the reply-to.
        using (var limited = await SendAsync(url, new { subject = "Hi", body = "Hi", replyTo = "same@example.org" }, two.Key))
        {
            await ProblemAssert.IsAsync(limited, 429, "rate_limited");
            Assert.True(int.Parse(limited.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) > 0);
        }
        // The first payer again, from another address: limited by the payer account.
        using (var limited = await SendAsync(url, new { subject = "Hi", body = "Hi", replyTo = "new@example.org" }, one.Key))
        {
            await ProblemAssert.IsAsync(limited, 429, "rate_limited");
        }
        Assert.Equal(750_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(one.Id), default)).Micros);
        Assert.Equal(1_000_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(two.Id), default)).Micros);
    }

    [Fact]
    public async Task The_compose_form_posts_url_encoded_with_the_key_in_the_form_and_is_checked_like_json()
    {
        var (org, linkId, url, payer) = await InboxWithPayerAsync();
        using var _ = org;
        using var browser = new HttpClient();
        using (var page = await browser.SendAsync(new HttpRequestMessage(HttpMethod.Get, url) { Headers = { { "Accept", "text/html" } } }))
        {
            Assert.Equal(200, (int)page.StatusCode);
            Assert.Contains("default-src 'none'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
            Assert.Contains($"action=\"/l/{linkId}\"", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        static FormUrlEncodedContent Form(params (string, string)[] fields) => new(fields.Select(f => KeyValuePair.Create(f.Item1, f.Item2)));

        // No key in the form (a cookie would not count either): 402, nothing stored or charged.
        using (var unpaid = await browser.PostAsync(url, Form(("subject", "Hi"), ("body", "Hello"), ("replyTo", ""))))
        {
            Assert.Equal(402, (int)unpaid.StatusCode);
        }
        using (var injected = await browser.PostAsync(url, Form(("subject", "Hi\r\nBcc: x@example.com"), ("body", "Hello"), ("payerKey", payer.Key))))
        {
            await ProblemAssert.IsAsync(injected, 400, "header_injection");
        }
        using (var unknown = await browser.PostAsync(url, Form(("subject", "Hi"), ("body", "Hello"), ("cc", "x@example.com"), ("payerKey", payer.Key))))
        {
            await ProblemAssert.IsAsync(unknown, 400, "unknown_field");
        }
        using (var badKey = await browser.PostAsync(url, Form(("subject", "Hi"), ("body", "Hello"), ("payerKey", "x402sk_not_a_payer_key"))))
        {
            await ProblemAssert.IsAsync(badKey, 400, "invalid_payer_key");
        }
        using (var large = await browser.PostAsync(url, Form(("subject", "Hi"), ("body", new string('é', 9000)), ("payerKey", payer.Key))))
        {
            await ProblemAssert.IsAsync(large, 413, "message_too_large");
        }
        Assert.Equal(1_000_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);

        using var sent = await browser.PostAsync(url, Form(("subject", "From a browser"), ("body", "Hello"), ("replyTo", ""), ("payerKey", payer.Key)));
        Assert.Equal(202, (int)sent.StatusCode);
        Assert.Contains("Message paid and queued", await sent.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var delivered = await WaitForStatusAsync(sent.Headers.Location!.ToString(), MessageStatuses.Delivered);
        var stored = (await fixture.Messages.GetAsync(delivered.GetProperty("receipt").GetString()!, default))!;
        Assert.Equal(("From a browser", (string?)null), (stored.Subject, stored.ReplyTo));
        Assert.Equal(750_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);
    }

    [Fact]
    public async Task Attachments_are_mailed_as_attachment_parts_and_unsafe_names_types_or_sizes_are_refused_uncharged()
    {
        using var org = await fixture.NewOrganisationAsync();
        var owner = Address();
        var (linkId, url) = await NewInboxAsync(org, owner, inboxExtra: new { maxMessageBytes = 4096 });
        var payer = await NewPayerAsync(org);
        await fixture.FundAsync(Accounts.Credits(payer.Id), 1_000_000);
        var pdf = Convert.ToBase64String("%PDF-1.4 test"u8.ToArray());
        object Message(string filename, string type, string content) =>
            new { subject = "Files", body = "See attached", attachments = new[] { new { filename, contentType = type, contentBase64 = content } } };

        foreach (var (message, status, code) in new (object, int, string)[]
        {
            (Message("../../etc/passwd", "text/plain", pdf), 400, "invalid_attachment_filename"),
            (Message(".hidden", "text/plain", pdf), 400, "invalid_attachment_filename"),
            (Message("a\r\nb.pdf", "application/pdf", pdf), 400, "invalid_attachment_filename"),
            (Message("page.html", "text/html", pdf), 400, "attachment_type_not_allowed"),
            (Message("x.pdf", "application/pdf", "not base64!"), 400, "invalid_attachment_content"),
            (Message("big.pdf", "application/pdf", Convert.ToBase64String(new byte[4000])), 413, "message_too_large"),
        })
        {
            using var refused = await SendAsync(url, message, payer.Key);
            await ProblemAssert.IsAsync(refused, status, code);
        }
        Assert.Equal(1_000_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);

        string receipt;
        using (var sent = await SendAsync(url, Message("Report (final).pdf", "application/pdf", pdf), payer.Key))
        {
            Assert.Equal(202, (int)sent.StatusCode);
            receipt = (await sent.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("receipt").GetString()!;
            await WaitForStatusAsync(sent.Headers.Location!.ToString(), MessageStatuses.Delivered);
        }
        var mail = fixture.Smtp.To(owner).Single(m => m.Subject == "Files");
        var part = Assert.Single(mail.Attachments.OfType<MimeKit.MimePart>());
        Assert.Equal("Report (final).pdf", part.FileName);
        Assert.Equal("application/pdf", part.ContentType.MimeType);
        Assert.Equal(MimeKit.ContentDisposition.Attachment, part.ContentDisposition!.Disposition);
        using var content = new MemoryStream();
        part.Content!.DecodeTo(content);
        Assert.Equal("%PDF-1.4 test"u8.ToArray(), content.ToArray());
        Assert.Null(mail.HtmlBody);
        Assert.Equal("See attached", mail.TextBody!.TrimEnd('\r', '\n'));
        var read = await org.GetFromJsonAsync<JsonElement>($"/api/links/{linkId}/messages/{receipt}");
        Assert.Equal("Report (final).pdf", Assert.Single(read.GetProperty("attachments").EnumerateArray()).GetProperty("filename").GetString());
    }
}
