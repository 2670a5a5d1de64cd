using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Inbox;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Webhooks;
using X402Serverless.Tests.Support;
using X402Serverless.Tests.Webhooks;
using static X402Serverless.Tests.Inbox.InboxFixture;

namespace X402Serverless.Tests.Inbox;

/// <summary>
/// A gateway delivering inbox messages to a real SMTP server and a real webhook receiver on loopback, retrying fast; so
/// many attempts that a test waiting for a target to recover never races the last one.
/// </summary>
public class InboxWebhookFixture : IAsyncLifetime
{
    internal virtual int MaxAttempts => 200;

    internal GatewayHost Gateway { get; private set; } = null!;

    internal TestSmtpServer Smtp { get; private set; } = null!;

    internal WebhookReceiver Receiver { get; private set; } = null!;

    internal ILedger Ledger => Gateway.Services.GetRequiredService<ILedger>();

    public async Task InitializeAsync()
    {
        Smtp = await TestSmtpServer.StartAsync();
        Receiver = await WebhookReceiver.StartAsync();
        Gateway = await StartGatewayAsync(Smtp.Port, new Dictionary<string, string?>
        {
            ["X402:Inbox:MaxAttempts"] = MaxAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["X402:OutboundWebhooks:TimeoutSeconds"] = "10",
        });
    }

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Receiver.DisposeAsync();
        await Smtp.DisposeAsync();
    }

    internal async Task<HttpClient> NewOrganisationAsync()
    {
        using var response = await Gateway.Admin.PostAsJsonAsync("/api/organisations", new { name = $"Org {Guid.NewGuid():N}" });
        return Gateway.Client((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString());
    }

    /// <summary>Creates an inbox through the API; its id, paid URL and the secret answered this once (null without a webhook).</summary>
    internal static async Task<(string Id, string Url, string? Secret)> NewInboxAsync(HttpClient org, string? deliverTo, string? webhookUrl)
    {
        var inbox = new Dictionary<string, object?>();
        if (deliverTo is not null)
        {
            inbox["deliverTo"] = deliverTo;
        }
        if (webhookUrl is not null)
        {
            inbox["webhookUrl"] = webhookUrl;
        }
        using var response = await org.PostAsJsonAsync("/api/links", new Dictionary<string, object?>
        {
            ["name"] = "Hooked inbox", ["price"] = "0.25", ["payTo"] = PayTo, ["accepts"] = new[] { "credits" }, ["inbox"] = inbox,
        });
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode, json.ToString());
        var secret = json.GetProperty("inbox").TryGetProperty("webhookSecret", out var s) ? s.GetString() : null;
        return (json.GetProperty("id").GetString()!, json.GetProperty("url").GetString()!, secret);
    }

    internal static async Task<string> SendPaidAsync(string url, string payerKey, object? message = null)
    {
        using var paid = await SendAsync(url, message ?? new { subject = "Hello over a hook", body = "<b>plain</b> text", replyTo = "sender@example.org" }, payerKey);
        var json = await paid.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True((int)paid.StatusCode == 202, json.ToString());
        return json.GetProperty("receiptUrl").GetString()!;
    }

    internal async Task<long> CreditsAsync(string payerId) => (await Ledger.BalanceAsync(Accounts.Credits(payerId), default)).Micros;

    internal static string Name() => "inbox" + Guid.NewGuid().ToString("N")[..10];

    internal static string Address() => $"owner-{Guid.NewGuid():N}@example.com";

    /// <summary>A funded payer of <paramref name="organisation"/>: its id and key.</summary>
    internal async Task<(string Id, string Key)> FundedPayerAsync(HttpClient organisation, long micros = 1_000_000)
    {
        var payer = await NewPayerAsync(organisation);
        await Ledger.PostAsync(LedgerEntry.Transfer($"test-fund:{Guid.NewGuid():N}", "topup", Accounts.CardClearing, Accounts.Credits(payer.Id), Usd.FromMicros(micros)), [], default);
        return payer;
    }
}

/// <summary>Inbox messages posted to the owner's webhook, signed as docs/webhooks.md says, and the money when it fails.</summary>
public sealed class InboxWebhookTests(InboxWebhookFixture fixture) : IClassFixture<InboxWebhookFixture>
{
    private static string Name() => InboxWebhookFixture.Name();

    private static string Address() => InboxWebhookFixture.Address();

    private static Task<(string Id, string Url, string? Secret)> NewInboxAsync(HttpClient org, string? deliverTo, string? webhookUrl) =>
        InboxWebhookFixture.NewInboxAsync(org, deliverTo, webhookUrl);

    private static Task<string> SendPaidAsync(string url, string payerKey, object? message = null) => InboxWebhookFixture.SendPaidAsync(url, payerKey, message);

    private static async Task<JsonElement> OwnerViewAsync(HttpClient org, string linkId, string receiptUrl) =>
        await org.GetFromJsonAsync<JsonElement>($"/api/links/{linkId}/messages/{receiptUrl[(receiptUrl.LastIndexOf('/') + 1)..]}");

    private Task<long> CreditsAsync(string payerId) => fixture.CreditsAsync(payerId);

    [Fact]
    public async Task A_paid_message_is_posted_once_signed_so_the_stripe_package_and_the_documented_scheme_verify_it()
    {
        using var org = await fixture.NewOrganisationAsync();
        var name = Name();
        var (linkId, url, secret) = await NewInboxAsync(org, null, fixture.Receiver.Url(name));
        Assert.StartsWith("whsec_", secret);
        var payer = await fixture.FundedPayerAsync(org);
        var file = Convert.ToBase64String(Encoding.UTF8.GetBytes("a,b\n1,2\n"));
        var receiptUrl = await SendPaidAsync(url, payer.Key, new
        {
            subject = "Hello over a hook", body = "<b>plain</b> text", replyTo = "sender@example.org",
            attachments = new[] { new { filename = "data.csv", contentType = "text/csv", contentBase64 = file } },
        });

        var delivered = await WaitForStatusAsync(receiptUrl, MessageStatuses.Delivered);
        var receipt = delivered.GetProperty("receipt").GetString()!;
        var received = Assert.Single(fixture.Receiver.To(name));
        Assert.Equal(receipt, received.EventId);
        Assert.Equal("inbox.message", received.Headers["X402-Event-Type"]);
        Assert.Equal([receipt], await WebhooksFixture.StripeVerifiesAsync(received.Body, received.Signature, 300, secret!));
        Assert.Equal([null], await WebhooksFixture.StripeVerifiesAsync(received.Body, received.Signature, 300, "whsec_someone_else"));
        Assert.Equal([null], await WebhooksFixture.StripeVerifiesAsync(received.Body.Replace("plain", "bold", StringComparison.Ordinal), received.Signature, 300, secret!));
        // By hand, as docs/webhooks.md describes: HMAC-SHA256 of "{t}.{raw body}" keyed with the secret's text.
        Assert.Equal(WebhookSignatureResult.Valid, WebhookSignature.Verify(Encoding.UTF8.GetBytes(received.Body), received.Signature, secret!, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5)));

        using var body = JsonDocument.Parse(received.Body);
        var root = body.RootElement;
        Assert.Equal(receipt, root.GetProperty("id").GetString());
        Assert.Equal("inbox.message", root.GetProperty("type").GetString());
        var m = root.GetProperty("data").GetProperty("object");
        Assert.Equal(receipt, m.GetProperty("receipt").GetString());
        Assert.Equal(linkId, m.GetProperty("linkId").GetString());
        Assert.Equal("Hello over a hook", m.GetProperty("subject").GetString());
        Assert.Equal("<b>plain</b> text", m.GetProperty("body").GetString());
        Assert.Equal("sender@example.org", m.GetProperty("replyTo").GetString());
        Assert.Equal("credits", m.GetProperty("paidWith").GetString());
        Assert.Equal("0.25", m.GetProperty("amountUsd").GetString());
        Assert.Equal("250000", m.GetProperty("amountMicros").GetString());
        var attachment = Assert.Single(m.GetProperty("attachments").EnumerateArray());
        Assert.Equal("data.csv", attachment.GetProperty("filename").GetString());
        Assert.Equal("text/csv", attachment.GetProperty("contentType").GetString());
        Assert.Equal(8, attachment.GetProperty("size").GetInt32());
        Assert.Equal(file, attachment.GetProperty("contentBase64").GetString());

        Assert.Equal(750_000, await CreditsAsync(payer.Id));
        // The secret was answered once: never by a read, and not in the audit log.
        var view = await org.GetFromJsonAsync<JsonElement>($"/api/links/{linkId}");
        Assert.False(view.GetProperty("inbox").TryGetProperty("webhookSecret", out _));
        Assert.Equal(InboxSettings.WebhookOnlyUpstream, view.GetProperty("upstream").GetString());
        Assert.DoesNotContain(secret!, await org.GetStringAsync($"/api/links/{linkId}"));
        Assert.DoesNotContain(secret!, await org.GetStringAsync("/api/audit"));
        Assert.DoesNotContain(secret!, await org.GetStringAsync("/api/links"));
    }

    [Fact]
    public async Task A_receiver_that_is_down_gets_the_message_once_when_it_is_up_and_the_sender_is_charged_once()
    {
        using var org = await fixture.NewOrganisationAsync();
        var port = PeerProcess.FreePort();
        var (linkId, url, secret) = await NewInboxAsync(org, null, $"http://127.0.0.1:{port}/hook/late");
        var payer = await fixture.FundedPayerAsync(org);
        var receiptUrl = await SendPaidAsync(url, payer.Key);

        // Nothing listens: attempts fail (connection refused) and are retried.
        await Poll.UntilAsync(async () => (await OwnerViewAsync(org, linkId, receiptUrl)).GetProperty("attempts").GetInt32() >= 2, TimeSpan.FromSeconds(30));
        var waiting = await OwnerViewAsync(org, linkId, receiptUrl);
        Assert.Equal("queued", waiting.GetProperty("status").GetString());
        Assert.False(string.IsNullOrEmpty(waiting.GetProperty("lastError").GetString()));

        await using var late = await WebhookReceiver.StartAsync(port);
        await WaitForStatusAsync(receiptUrl, MessageStatuses.Delivered);
        var received = Assert.Single(late.To("late"));
        Assert.Equal([received.EventId], await WebhooksFixture.StripeVerifiesAsync(received.Body, received.Signature, 300, secret!));
        Assert.Equal(750_000, await CreditsAsync(payer.Id));
    }

    [Fact]
    public async Task With_mail_and_a_webhook_each_target_gets_the_message_once_across_retries_and_it_is_delivered_when_both_took_it()
    {
        using var org = await fixture.NewOrganisationAsync();
        var (name, owner) = (Name(), Address());
        fixture.Smtp.Deferred[owner] = 1;
        var (linkId, url, _) = await NewInboxAsync(org, owner, fixture.Receiver.Url(name));
        var payer = await fixture.FundedPayerAsync(org);
        var receiptUrl = await SendPaidAsync(url, payer.Key);

        // The webhook takes it at once; the mail is deferred (451), so the message waits queued for the mail alone.
        await Poll.UntilAsync(async () => fixture.Smtp.Attempts.GetValueOrDefault(owner) >= 2
            && (await OwnerViewAsync(org, linkId, receiptUrl)).GetProperty("attempts").GetInt32() >= 2, TimeSpan.FromSeconds(30));
        var partly = await OwnerViewAsync(org, linkId, receiptUrl);
        Assert.Equal("queued", partly.GetProperty("status").GetString());
        Assert.Equal(["webhook"], partly.GetProperty("deliveredTo").EnumerateArray().Select(t => t.GetString()));
        Assert.Single(fixture.Receiver.To(name));

        fixture.Smtp.Deferred.TryRemove(owner, out _);
        await WaitForStatusAsync(receiptUrl, MessageStatuses.Delivered);
        Assert.Single(fixture.Smtp.To(owner));
        Assert.Single(fixture.Receiver.To(name));
        var done = await OwnerViewAsync(org, linkId, receiptUrl);
        Assert.Equal(["email", "webhook"], done.GetProperty("deliveredTo").EnumerateArray().Select(t => t.GetString()).Order());
        Assert.Equal(750_000, await CreditsAsync(payer.Id));
    }

    [Fact]
    public async Task A_rotated_secret_is_answered_once_and_both_secrets_sign_deliveries_during_the_grace_period()
    {
        using var org = await fixture.NewOrganisationAsync();
        var name = Name();
        var (linkId, url, first) = await NewInboxAsync(org, null, fixture.Receiver.Url(name));
        using var rotated = await org.PostAsync($"/api/links/{linkId}/inbox/secrets", null);
        var rotatedJson = await rotated.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(201, (int)rotated.StatusCode);
        var second = rotatedJson.GetProperty("inbox").GetProperty("webhookSecret").GetString()!;
        Assert.StartsWith("whsec_", second);
        Assert.NotEqual(first, second);

        var payer = await fixture.FundedPayerAsync(org);
        await WaitForStatusAsync(await SendPaidAsync(url, payer.Key), MessageStatuses.Delivered);
        var received = Assert.Single(fixture.Receiver.To(name));
        Assert.Equal(2, received.Signature.Split(',').Count(p => p.StartsWith("v1=", StringComparison.Ordinal)));
        Assert.Equal([received.EventId, received.EventId], await WebhooksFixture.StripeVerifiesAsync(received.Body, received.Signature, 300, first!, second));

        // Another organisation's key sees no such inbox; an inbox without a webhook has no secret to rotate.
        using var other = await fixture.NewOrganisationAsync();
        using (var foreign = await other.PostAsync($"/api/links/{linkId}/inbox/secrets", null))
        {
            await ProblemAssert.IsAsync(foreign, 404, "not_found");
        }
        var (mailOnly, _, none) = await NewInboxAsync(org, Address(), null);
        Assert.Null(none);
        using var noHook = await org.PostAsync($"/api/links/{mailOnly}/inbox/secrets", null);
        await ProblemAssert.IsAsync(noHook, 409, "inbox_has_no_webhook");
    }

    [Fact]
    public async Task Adding_a_webhook_later_answers_its_secret_once_and_removing_it_leaves_a_mailed_message_delivered()
    {
        using var org = await fixture.NewOrganisationAsync();
        var (name, owner) = (Name(), Address());
        var (linkId, _, none) = await NewInboxAsync(org, owner, null);
        Assert.Null(none);
        using var added = await org.PatchAsJsonAsync($"/api/links/{linkId}", new { inbox = new { webhookUrl = fixture.Receiver.Url(name) } });
        var addedJson = await added.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(added.IsSuccessStatusCode, addedJson.ToString());
        Assert.StartsWith("whsec_", addedJson.GetProperty("inbox").GetProperty("webhookSecret").GetString());
        // A later change answers no secret.
        using var priced = await org.PatchAsJsonAsync($"/api/links/{linkId}", new { price = "0.30" });
        Assert.False((await priced.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("inbox").TryGetProperty("webhookSecret", out _));

        // Removing the webhook while a message waits for it: that target can never take it. The mail went out, so the
        // message is delivered and stays paid for.
        fixture.Receiver.Script(name, _ => 503);
        var payer = await fixture.FundedPayerAsync(org);
        var url = (await org.GetFromJsonAsync<JsonElement>($"/api/links/{linkId}")).GetProperty("url").GetString()!;
        var receiptUrl = await SendPaidAsync(url, payer.Key);
        await Poll.UntilAsync(() => Task.FromResult(fixture.Receiver.To(name).Count >= 1), TimeSpan.FromSeconds(30));
        using var removed = await org.PatchAsJsonAsync($"/api/links/{linkId}", new { inbox = new { webhookUrl = "" } });
        Assert.True(removed.IsSuccessStatusCode);
        Assert.Equal(JsonValueKind.Null, (await removed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("inbox").GetProperty("webhookUrl").ValueKind);
        var delivered = await WaitForStatusAsync(receiptUrl, MessageStatuses.Delivered, TimeSpan.FromSeconds(60));
        Assert.False(delivered.GetProperty("refunded").GetBoolean());
        Assert.Single(fixture.Smtp.To(owner));
        Assert.Equal(700_000, await CreditsAsync(payer.Id)); // the price was changed to 0.30 above
    }

    [Theory]
    [InlineData("http://10.0.0.8/hook", "upstream_address_refused")]
    [InlineData("https://169.254.169.254/latest", "upstream_address_refused")]
    [InlineData("https://[::ffff:10.0.0.1]/hook", "upstream_address_refused")]
    [InlineData("http://93.184.216.34/hook", "insecure_url")]
    [InlineData("ftp://example.com/hook", "invalid_url")]
    [InlineData("https://user:pw@example.com/hook", "invalid_url")]
    [InlineData("not a url", "invalid_url")]
    public async Task A_webhook_url_is_checked_as_webhook_endpoints_are(string webhookUrl, string code)
    {
        using var org = await fixture.NewOrganisationAsync();
        using var response = await org.PostAsJsonAsync("/api/links", new Dictionary<string, object?>
        {
            ["name"] = "Bad hook", ["price"] = "0.25", ["payTo"] = PayTo, ["accepts"] = new[] { "credits" },
            ["inbox"] = new { webhookUrl },
        });
        await ProblemAssert.IsAsync(response, 400, code);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        var error = Assert.Single(problem.GetProperty("errors").EnumerateArray());
        Assert.Equal("inbox.webhookUrl", error.GetProperty("field").GetString());
        Assert.Empty((await org.GetFromJsonAsync<JsonElement>("/api/links")).GetProperty("items").EnumerateArray());

        // The same check on a change, and an inbox with neither mail nor webhook is refused.
        var (linkId, _, _) = await NewInboxAsync(org, Address(), null);
        using var changed = await org.PatchAsJsonAsync($"/api/links/{linkId}", new { inbox = new { webhookUrl } });
        await ProblemAssert.IsAsync(changed, 400, code);
        using var neither = await org.PatchAsJsonAsync($"/api/links/{linkId}", new { inbox = new { deliverTo = "" } });
        await ProblemAssert.IsAsync(neither, 400, "invalid_inbox_address");
    }
}

/// <summary>The same gateway giving up after a few attempts.</summary>
public sealed class InboxWebhookFailureFixture : InboxWebhookFixture
{
    internal override int MaxAttempts => 5;
}

/// <summary>A webhook that never takes a message: the message fails after the last attempt and the sender is refunded.</summary>
public sealed class InboxWebhookFailureTests(InboxWebhookFailureFixture fixture) : IClassFixture<InboxWebhookFailureFixture>
{
    private static string Name() => InboxWebhookFixture.Name();

    private static string Address() => InboxWebhookFixture.Address();

    private static Task<(string Id, string Url, string? Secret)> NewInboxAsync(HttpClient org, string? deliverTo, string? webhookUrl) =>
        InboxWebhookFixture.NewInboxAsync(org, deliverTo, webhookUrl);

    private static Task<string> SendPaidAsync(string url, string payerKey) => InboxWebhookFixture.SendPaidAsync(url, payerKey);

    private Task<long> CreditsAsync(string payerId) => fixture.CreditsAsync(payerId);

    [Fact]
    public async Task A_receiver_answering_errors_until_the_last_attempt_fails_the_message_and_the_sender_is_refunded()
    {
        using var org = await fixture.NewOrganisationAsync();
        var name = Name();
        fixture.Receiver.Script(name, n => n % 2 == 0 ? 500 : 404);
        var (_, url, _) = await NewInboxAsync(org, null, fixture.Receiver.Url(name));
        var payer = await fixture.FundedPayerAsync(org);
        var receiptUrl = await SendPaidAsync(url, payer.Key);
        Assert.Equal(750_000, await CreditsAsync(payer.Id));

        var failed = await WaitForRefundAsync(receiptUrl);
        Assert.True(failed.GetProperty("refunded").GetBoolean());
        Assert.Equal(fixture.MaxAttempts, fixture.Receiver.To(name).Count);
        Assert.Single(fixture.Receiver.To(name).Select(r => r.EventId).Distinct());
        Assert.Equal(1_000_000, await CreditsAsync(payer.Id));
    }

    [Fact]
    public async Task With_mail_and_a_failing_webhook_the_mail_is_sent_once_and_the_message_stays_paid_for()
    {
        using var org = await fixture.NewOrganisationAsync();
        var (name, owner) = (Name(), Address());
        fixture.Receiver.Script(name, _ => 503);
        var (_, url, _) = await NewInboxAsync(org, owner, fixture.Receiver.Url(name));
        var payer = await fixture.FundedPayerAsync(org);
        var receiptUrl = await SendPaidAsync(url, payer.Key);

        // The owner has the mail: a refusing webhook (the owner's, or one a sender's message makes refuse) does not make
        // the message free.
        var delivered = await WaitForStatusAsync(receiptUrl, MessageStatuses.Delivered, TimeSpan.FromSeconds(60));
        Assert.False(delivered.GetProperty("refunded").GetBoolean());
        Assert.Single(fixture.Smtp.To(owner));
        Assert.Equal(fixture.MaxAttempts, fixture.Receiver.To(name).Count);
        Assert.Equal(750_000, await CreditsAsync(payer.Id));
    }
}
