using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Inbox;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Ports;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.Inbox.InboxFixture;
using Passes_ = X402Serverless.Tests.Passes;

namespace X402Serverless.Tests.Inbox;

/// <summary>
/// Inbox links selling a pass (N messages and/or T minutes): the offer's checks on create and change, a message sent
/// with a pass and mailed once through a real SMTP server, the call given back once when the relay refuses for good,
/// and a last call raced by 200 sends.
/// </summary>
public sealed class InboxPassTests(InboxFixture fixture) : IClassFixture<InboxFixture>
{
    private static string Address(string prefix = "owner") => $"{prefix}-{Guid.NewGuid():N}@example.com";

    private IPassStore Passes => fixture.Gateway.Services.GetRequiredService<IPassStore>();

    [Fact]
    public async Task An_inbox_takes_a_pass_offer_on_create_and_change_and_bad_shapes_get_their_codes()
    {
        using var org = await fixture.NewOrganisationAsync();
        async Task<HttpResponseMessage> CreateAsync(object? pass) => await org.PostAsJsonAsync("/api/links", new Dictionary<string, object?>
        {
            ["name"] = "Write to me", ["price"] = "0.25", ["payTo"] = PayTo, ["accepts"] = new[] { "credits" },
            ["inbox"] = new { deliverTo = Address() }, ["pass"] = pass,
        });

        foreach (var (bad, code, field) in new (object Pass, string Code, string Field)[]
        {
            (new { price = "1.00" }, "invalid_pass", "pass"),
            (new { price = "0", calls = 5 }, "invalid_pass", "pass.price"),
            (new { price = "1.00", calls = 0 }, "invalid_pass", "pass.calls"),
            (new { price = "1.00", minutes = 525_601 }, "invalid_pass", "pass.minutes"),
            (new { price = "1.0000001", calls = 5 }, "invalid_pass", "pass.price"),
            (new { price = "1.00", calls = 5, uses = 3 }, "invalid_type", "uses"),
            ("ten messages", "invalid_type", "body"),
        })
        {
            using var refused = await CreateAsync(bad);
            await ProblemAssert.IsAsync(refused, 400, code, JsonSerializer.Serialize(bad));
            var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement;
            Assert.Contains(problem.GetProperty("errors").EnumerateArray(), e => e.GetProperty("field").GetString()!.StartsWith(field, StringComparison.Ordinal));
        }

        using var created = await CreateAsync(new { price = "2.00", calls = 10, minutes = 60 });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var link = await created.Content.ReadFromJsonAsync<JsonElement>();
        var id = link.GetProperty("id").GetString()!;
        Assert.Equal("2.00", link.GetProperty("pass").GetProperty("price").GetString());
        Assert.Equal(10, link.GetProperty("pass").GetProperty("calls").GetInt32());

        // The 402 of an inbox selling a pass carries the offer and sign-in-with-x's challenge, as an API link's does.
        using (var unpaid = await SendAsync(link.GetProperty("url").GetString()!, new { subject = "Hi", body = "Hello" }))
        {
            Assert.Equal(HttpStatusCode.PaymentRequired, unpaid.StatusCode);
            var required = JsonDocument.Parse(Convert.FromBase64String(unpaid.Headers.GetValues("PAYMENT-REQUIRED").Single())).RootElement;
            Assert.Equal(10, required.GetProperty("extensions").GetProperty("pass").GetProperty("calls").GetInt32());
            Assert.True(required.GetProperty("extensions").TryGetProperty("sign-in-with-x", out _));
        }

        using (var changed = await org.PatchAsJsonAsync($"/api/links/{id}", new { pass = new { price = "3.00", minutes = 30 } }))
        {
            Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
            var pass = (await changed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("pass");
            Assert.Equal("3.00", pass.GetProperty("price").GetString());
            Assert.Equal(30, pass.GetProperty("minutes").GetInt32());
        }
        using (var badChange = await org.PatchAsJsonAsync($"/api/links/{id}", new { pass = new { price = "-1", calls = 3 } }))
        {
            await ProblemAssert.IsAsync(badChange, 400, "invalid_pass");
        }
        using (var stopped = await org.PatchAsJsonAsync($"/api/links/{id}", new Dictionary<string, object?> { ["pass"] = null }))
        {
            Assert.Equal(HttpStatusCode.OK, stopped.StatusCode);
            Assert.Equal(JsonValueKind.Null, (await stopped.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("pass").ValueKind);
        }

        // Another organisation cannot put a pass on this inbox.
        using var other = await fixture.NewOrganisationAsync();
        using (var foreign = await other.PatchAsJsonAsync($"/api/links/{id}", new { pass = new { price = "0.01", calls = 1000 } }))
        {
            Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
        }
    }

    [Fact]
    public async Task A_message_sent_with_a_pass_is_mailed_once_and_uses_one_call_and_no_credits()
    {
        using var org = await fixture.NewOrganisationAsync();
        var owner = Address();
        var (linkId, url) = await NewPassInboxAsync(org, owner, calls: 2);
        var (payer, passId) = await BuyPassAsync(org, linkId, "1.00");

        using var sent = await SendAsync(url, new { subject = "Sent with a pass", body = "Hello", replyTo = "sender@example.org" }, payer.Key);
        Assert.Equal(HttpStatusCode.Accepted, sent.StatusCode);
        Assert.Equal(passId, sent.Headers.GetValues("X-Pass-Id").Single());
        Assert.Equal("1", sent.Headers.GetValues("X-Pass-Calls-Left").Single());
        Assert.False(sent.Headers.Contains("X-Charged"));
        var receiptUrl = (await sent.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("receiptUrl").GetString()!;
        await WaitForStatusAsync(receiptUrl, MessageStatuses.Delivered);

        var mail = Assert.Single(fixture.Smtp.To(owner));
        Assert.Equal("Sent with a pass", mail.Subject);
        Assert.Equal($"pass {passId}", mail.Headers["X-Inbox-Paid"]);
        Assert.Equal(1, (await Passes.GetAsync(linkId, passId, default))!.CallsLeft);
        Assert.Equal(0, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);

        // The owner sees it paid with the pass; the inbox counts one message and no money for it.
        var listed = await org.GetFromJsonAsync<JsonElement>($"/api/links/{linkId}/messages");
        var item = Assert.Single(listed.GetProperty("items").EnumerateArray());
        Assert.Equal("pass", item.GetProperty("paidWith").GetString());
        Assert.Equal(1, listed.GetProperty("totals").GetProperty("messages").GetInt32());

        // Delivered stays used: a second message takes the last call, a third finds none (the payer has no credits).
        using (var second = await SendAsync(url, new { subject = "Again", body = "Hello" }, payer.Key))
        {
            Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
            Assert.Equal("0", second.Headers.GetValues("X-Pass-Calls-Left").Single());
        }
        using (var third = await SendAsync(url, new { subject = "Once more", body = "Hello" }, payer.Key))
        {
            Assert.Equal(HttpStatusCode.PaymentRequired, third.StatusCode);
        }
        Assert.Equal(0, (await Passes.GetAsync(linkId, passId, default))!.CallsLeft);
    }

    [Fact]
    public async Task A_wallet_signs_in_with_x_to_send_with_its_pass_once_per_proof_and_a_blocked_wallet_keeps_its_call()
    {
        using var org = await fixture.NewOrganisationAsync();
        var owner = Address();
        var (linkId, url) = await NewPassInboxAsync(org, owner, calls: 3);
        var key = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
        var wallet = Core.Crypto.Secp256k1.AddressOf(key);
        var link = (await fixture.Gateway.Services.GetRequiredService<ILinkStore>().FindAsync(linkId, default))!;
        var pass = Core.Passes.Pass.Issue(link, link.Pass!, Core.Passes.PassHolders.Wallet(wallet), "pay_" + Guid.NewGuid().ToString("N"), "x402", DateTimeOffset.UtcNow);
        Assert.True(await Passes.AddAsync(pass, default));

        var proof = Passes_.SiwxProofs.Signed(Passes_.SiwxProofs.For(key, url, DateTimeOffset.UtcNow), key);
        var header = new[] { KeyValuePair.Create(Core.Passes.SiwxPayload.HeaderName, proof) };
        using (var sent = await SendAsync(url, new { subject = "From a wallet", body = "Hello" }, headers: header))
        {
            Assert.Equal(HttpStatusCode.Accepted, sent.StatusCode);
            Assert.Equal("2", sent.Headers.GetValues("X-Pass-Calls-Left").Single());
            await WaitForStatusAsync((await sent.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("receiptUrl").GetString()!, MessageStatuses.Delivered);
        }
        // The same proof again is a replay: the 402, nothing stored, no call taken.
        using (var replayed = await SendAsync(url, new { subject = "Replayed", body = "Hello" }, headers: header))
        {
            Assert.Equal(HttpStatusCode.PaymentRequired, replayed.StatusCode);
        }
        var mail = Assert.Single(fixture.Smtp.To(owner));
        Assert.Equal($"pass {pass.Id}", mail.Headers["X-Inbox-Paid"]);
        var item = Assert.Single((await org.GetFromJsonAsync<JsonElement>($"/api/links/{linkId}/messages")).GetProperty("items").EnumerateArray());
        Assert.Equal(wallet.ToLowerHex(), item.GetProperty("sender").GetString());

        // The owner blocks the wallet: refused 403 and the call taken for the attempt goes back to the pass.
        using (var blocked = await org.PatchAsJsonAsync($"/api/links/{linkId}", new { inbox = new { block = new[] { wallet.ToLowerHex() } } }))
        {
            Assert.Equal(HttpStatusCode.OK, blocked.StatusCode);
        }
        var fresh = Passes_.SiwxProofs.Signed(Passes_.SiwxProofs.For(key, url, DateTimeOffset.UtcNow), key);
        using (var refused = await SendAsync(url, new { subject = "Blocked", body = "Hello" }, headers: [KeyValuePair.Create(Core.Passes.SiwxPayload.HeaderName, fresh)]))
        {
            await ProblemAssert.IsAsync(refused, 403, "sender_blocked");
        }
        Assert.Single(fixture.Smtp.To(owner));
        Assert.Equal(2, (await Passes.GetAsync(linkId, pass.Id, default))!.CallsLeft);
    }

    [Fact]
    public async Task A_relay_refusing_for_good_gives_the_pass_call_back_exactly_once()
    {
        using var org = await fixture.NewOrganisationAsync();
        var owner = Address("refuse");
        var (linkId, url) = await NewPassInboxAsync(org, owner, calls: 2);
        var (payer, passId) = await BuyPassAsync(org, linkId, "1.00");

        using var sent = await SendAsync(url, new { subject = "Hi", body = "Hello" }, payer.Key);
        Assert.Equal(HttpStatusCode.Accepted, sent.StatusCode);
        var accepted = await sent.Content.ReadFromJsonAsync<JsonElement>();
        var failed = await WaitForRefundAsync(accepted.GetProperty("receiptUrl").GetString()!);
        Assert.True(failed.GetProperty("refunded").GetBoolean());
        Assert.False(failed.GetProperty("refundOwed").GetBoolean());
        Assert.Equal(1, fixture.Smtp.Attempts[owner]);
        Assert.Empty(fixture.Smtp.To(owner));
        Assert.Equal(2, (await Passes.GetAsync(linkId, passId, default))!.CallsLeft);

        // Refunded again by the owner (ten at once), and the refund step re-run on the message as if it had never been
        // recorded (a crash after the give-back): the call came back once.
        var receipt = accepted.GetProperty("receipt").GetString()!;
        var refunds = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Task.Run(async () =>
        {
            using var response = await org.PostAsync($"/api/links/{linkId}/messages/{receipt}/refund", null);
            return response.StatusCode;
        })));
        Assert.All(refunds, s => Assert.Equal(HttpStatusCode.OK, s));
        var stored = (await fixture.Messages.GetAsync(receipt, default))!;
        var refunder = fixture.Gateway.Services.GetRequiredService<Handler.Inbox.InboxRefunds>();
        await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Task.Run(() => refunder.FinishAsync(stored with { Refunded = false }, default))));
        Assert.Equal(2, (await Passes.GetAsync(linkId, passId, default))!.CallsLeft);
        Assert.True((await fixture.Messages.GetAsync(receipt, default))!.Refunded);

        // The call given back pays the next message.
        using var again = await SendAsync(url, new { subject = "Again", body = "Hello" }, payer.Key);
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        Assert.Equal("1", again.Headers.GetValues("X-Pass-Calls-Left").Single());
    }

    [Fact]
    public async Task Two_hundred_concurrent_sends_on_a_pass_with_one_call_left_store_and_mail_exactly_one_message()
    {
        using var org = await fixture.NewOrganisationAsync();
        var owner = Address();
        var (linkId, url) = await NewPassInboxAsync(org, owner, calls: 1);
        var (payer, passId) = await BuyPassAsync(org, linkId, "1.00");

        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sends = Enumerable.Range(0, 200).Select(i => Task.Run(async () =>
        {
            await gate.Task;
            using var response = await SendAsync(url, new { subject = $"Hi {i}", body = "Hello" }, payer.Key);
            return (Status: (int)response.StatusCode, Receipt: response.StatusCode == HttpStatusCode.Accepted
                ? (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("receiptUrl").GetString() : null);
        })).ToList();
        gate.SetResult();
        var results = await Task.WhenAll(sends);

        Assert.Equal(1, results.Count(r => r.Status == 202));
        Assert.Equal(199, results.Count(r => r.Status == 402));
        await WaitForStatusAsync(results.Single(r => r.Status == 202).Receipt!, MessageStatuses.Delivered);
        Assert.Single(fixture.Smtp.To(owner));
        var listed = await org.GetFromJsonAsync<JsonElement>($"/api/links/{linkId}/messages");
        Assert.Single(listed.GetProperty("items").EnumerateArray());
        Assert.Equal(0, (await Passes.GetAsync(linkId, passId, default))!.CallsLeft);
    }

    /// <summary>An inbox taking credits and selling a pass of <paramref name="calls"/> messages for $1.00.</summary>
    private static async Task<(string Id, string Url)> NewPassInboxAsync(HttpClient org, string owner, int calls)
    {
        using var response = await org.PostAsJsonAsync("/api/links", new
        {
            name = "Write to me", price = "0.25", payTo = PayTo, accepts = new[] { "credits" },
            inbox = new { deliverTo = owner }, pass = new { price = "1.00", calls },
        });
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode, json.ToString());
        return (json.GetProperty("id").GetString()!, json.GetProperty("url").GetString()!);
    }

    /// <summary>A payer funded with exactly the pass's price, who buys it with credits (so nothing is left for a message).</summary>
    private async Task<((string Id, string Key) Payer, string PassId)> BuyPassAsync(HttpClient org, string linkId, string price)
    {
        var payer = await NewPayerAsync(org);
        await fixture.FundAsync(Accounts.Credits(payer.Id), Core.Money.Usd.Parse(price).Micros);
        using var client = fixture.Gateway.Client(payer.Key);
        using var bought = await client.PostAsync($"/pass/{linkId}", null);
        var json = await bought.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(bought.StatusCode == HttpStatusCode.Created, json.ToString());
        Assert.Equal(0, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);
        return (payer, json.GetProperty("id").GetString()!);
    }
}
