using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Links;
using X402Serverless.Core.Money;
using X402Serverless.Core.Passes;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Usage;
using X402Serverless.Tests.Credits;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.Credits.CreditsFixture;

namespace X402Serverless.Tests.Passes;

/// <summary>
/// Passes without a chain: configured on a link, bought from credits, used by a payer key before credits, used by a
/// wallet's sign-in-with-x proof (the pass placed as an x402 purchase would issue it), refused when spent, expired,
/// revoked, or when the proof is not this wallet's, for this gateway, this link, now and once.
/// </summary>
public sealed class PassTests(CreditsFixture fixture) : IClassFixture<CreditsFixture>
{
    [Fact]
    public async Task A_pass_offer_is_checked_field_by_field_shown_on_the_link_changed_and_removed()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";
        async Task<HttpResponseMessage> CreateAsync(object pass) =>
            await org.PostAsJsonAsync("/api/links", new { upstream = fixture.Upstream.BaseUrl + "/ok/x", price = "0.01", payTo, pass });

        using (var unbounded = await CreateAsync(new { price = "1.00" }))
        {
            await ProblemAssert.IsAsync(unbounded, 400, "invalid_pass");
        }
        using (var free = await CreateAsync(new { price = "0", calls = 5 }))
        {
            await ProblemAssert.IsAsync(free, 400, "invalid_pass");
        }
        using (var tooLong = await CreateAsync(new { price = "1.00", minutes = PassOffer.MaxMinutes + 1 }))
        {
            await ProblemAssert.IsAsync(tooLong, 400, "invalid_pass");
        }
        using (var zero = await CreateAsync(new { price = "1.00", calls = 0 }))
        {
            await ProblemAssert.IsAsync(zero, 400, "invalid_pass");
        }
        using (var tooPrecise = await CreateAsync(new { price = "1.0000001", calls = 5 }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, tooPrecise.StatusCode);
        }
        using (var unknown = await CreateAsync(new { price = "1.00", calls = 5, uses = 3 }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        }

        using var created = await CreateAsync(new { price = "1.00", calls = 5 });
        var link = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("1.00", link.GetProperty("pass").GetProperty("price").GetString());
        Assert.Equal(5, link.GetProperty("pass").GetProperty("calls").GetInt32());
        var id = link.GetProperty("id").GetString();

        using (var changed = await org.PatchAsJsonAsync($"/api/links/{id}", new { pass = new { price = "2.00", minutes = 30 } }))
        {
            var view = await changed.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("2.00", view.GetProperty("pass").GetProperty("price").GetString());
            Assert.Equal(30, view.GetProperty("pass").GetProperty("minutes").GetInt32());
        }
        using (var removed = await org.PatchAsync($"/api/links/{id}", JsonContent.Create(new Dictionary<string, object?> { ["pass"] = null })))
        {
            Assert.Equal(JsonValueKind.Null, (await removed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("pass").ValueKind);
        }
        using var gone = await new HttpClient().PostAsync($"{fixture.Gateway.BaseUrl}/pass/{id}", null);
        await ProblemAssert.IsAsync(gone, 404, "not_found");
    }

    [Fact]
    public async Task The_402_of_a_link_selling_a_pass_offers_it_and_a_fresh_sign_in_with_x_challenge_each_time()
    {
        using var org = await fixture.NewOrganisationAsync();
        var link = await fixture.NewLinkAsync(org, "0.01", ["x402", "credits"], extra: new { pass = new { price = "0.50", calls = 10 } });
        using var client = new HttpClient();

        var first = Required(await client.GetAsync(link.Url));
        var second = Required(await client.GetAsync(link.Url));
        var pass = first.GetProperty("extensions").GetProperty("pass");
        Assert.Equal("0.50", pass.GetProperty("price").GetString());
        Assert.Equal($"{fixture.Gateway.BaseUrl}/pass/{link.Id}", pass.GetProperty("purchaseUrl").GetString());
        var siwx = first.GetProperty("extensions").GetProperty("sign-in-with-x");
        Assert.Equal(new Uri(fixture.Gateway.BaseUrl).Authority, siwx.GetProperty("info").GetProperty("domain").GetString());
        Assert.Equal(link.Url, siwx.GetProperty("info").GetProperty("uri").GetString());
        Assert.Equal("eip155:84532", Assert.Single(siwx.GetProperty("supportedChains").EnumerateArray()).GetProperty("chainId").GetString());
        Assert.NotEqual(siwx.GetProperty("info").GetProperty("nonce").GetString(),
            second.GetProperty("extensions").GetProperty("sign-in-with-x").GetProperty("info").GetProperty("nonce").GetString());

        // The purchase's own 402 is priced at the pass.
        using var buy = await client.PostAsync($"{fixture.Gateway.BaseUrl}/pass/{link.Id}", null);
        Assert.Equal(HttpStatusCode.PaymentRequired, buy.StatusCode);
        Assert.Equal("500000", Required(buy).GetProperty("accepts")[0].GetProperty("amount").GetString());
    }

    [Fact]
    public async Task A_payer_buys_a_pass_from_credits_and_its_key_uses_the_pass_before_credits()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await NewPayerAsync(org, new { name = "Pass holder" });
        var link = await fixture.NewLinkAsync(org, "0.10", ["credits"], extra: new { pass = new { price = "0.25", calls = 2 } });
        var failing = await fixture.NewLinkAsync(org, "0.10", ["credits"], kind: "fail", extra: new { pass = new { price = "0.25", calls = 1 } });
        await fixture.FundAsync(Accounts.Credits(payer.Id), 1_000_000);

        using var bought = await BuyAsync(link.Id, payer.Key);
        Assert.Equal(HttpStatusCode.Created, bought.StatusCode);
        Assert.Equal("0.25", bought.Headers.GetValues("X-Charged").Single());
        var pass = await bought.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("payer:" + payer.Id, pass.GetProperty("holder").GetString());
        Assert.Equal("credits", pass.GetProperty("paidWith").GetString());
        Assert.Equal(750_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);

        foreach (var left in new[] { "1", "0" })
        {
            using var call = await CallAsync(link.Url, payer.Key);
            Assert.Equal(HttpStatusCode.OK, call.StatusCode);
            Assert.Equal(pass.GetProperty("id").GetString(), call.Headers.GetValues("X-Pass-Id").Single());
            Assert.Equal(left, call.Headers.GetValues("X-Pass-Calls-Left").Single());
            Assert.False(call.Headers.Contains("X-Charged"));
        }
        Assert.Equal(750_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);
        using (var fromCredits = await CallAsync(link.Url, payer.Key))
        {
            Assert.Equal("0.10", fromCredits.Headers.GetValues("X-Charged").Single());
        }
        Assert.Equal(3, fixture.Upstream.Hits(link.Path));

        // A call the upstream fails takes nothing from the pass.
        using (var failingPass = await BuyAsync(failing.Id, payer.Key))
        {
            Assert.Equal(HttpStatusCode.Created, failingPass.StatusCode);
        }
        using (var failed = await CallAsync(failing.Url, payer.Key))
        {
            Assert.True((int)failed.StatusCode >= 500);
        }
        var mine = await ListAsync(fixture.Gateway.Client(payer.Key), "/api/me/passes");
        Assert.Equal(2, mine.Count);
        var failingHeld = mine.Single(p => p.GetProperty("linkId").GetString() == failing.Id);
        Assert.Equal((1, "active"), (failingHeld.GetProperty("callsLeft").GetInt32(), failingHeld.GetProperty("status").GetString()));
        Assert.Equal("spent", mine.Single(p => p.GetProperty("linkId").GetString() == link.Id).GetProperty("status").GetString());
        Assert.Single(await ListAsync(fixture.Gateway.Client(payer.Key), $"{fixture.Gateway.BaseUrl}/pass/{link.Id}"));

        await fixture.Gateway.Services.GetRequiredService<UsageRecorder>().FlushAsync(default);
        var usage = await org.GetFromJsonAsync<JsonElement>("/api/usage?days=7");
        var row = usage.GetProperty("items").EnumerateArray().Single(r => r.GetProperty("linkId").GetString() == link.Id);
        Assert.Equal((1, 2, 1), (row.GetProperty("passesSold").GetInt64(), row.GetProperty("passCalls").GetInt64(), row.GetProperty("paid").GetInt64()));
        var failRow = usage.GetProperty("items").EnumerateArray().Single(r => r.GetProperty("linkId").GetString() == failing.Id);
        Assert.Equal((0, 1), (failRow.GetProperty("passCalls").GetInt64(), failRow.GetProperty("notCharged").GetInt64()));
    }

    [Fact]
    public async Task A_purchase_retried_under_its_idempotency_key_pays_once_however_often_and_however_concurrently_it_is_sent()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await NewPayerAsync(org, new { name = "Retrying buyer" });
        var link = await fixture.NewLinkAsync(org, "0.10", ["credits"], extra: new { pass = new { price = "0.25", calls = 2 } });
        await fixture.FundAsync(Accounts.Credits(payer.Id), 1_000_000);
        var key = "buy_" + Guid.NewGuid().ToString("N");

        using var start = new ManualResetEventSlim();
        var buys = Enumerable.Range(0, 50).Select(_ => Task.Run(async () =>
        {
            start.Wait();
            using var response = await BuyAsync(link.Id, payer.Key, key);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            return ((int)response.StatusCode, body, replayed: response.Headers.Contains("X-Payment-Identifier-Replayed"));
        })).ToList();
        start.Set();
        var answers = await Task.WhenAll(buys);

        // The rest: the recorded answer (the same 201, marked replayed) or, while the first runs, in progress.
        Assert.All(answers.Where(a => a.Item1 != 201 || a.replayed), a => Assert.True(a.replayed
            || (a.Item1 == 409 && a.body.GetProperty("code").GetString() == "payment_identifier_in_progress"), a.body.ToString()));
        Assert.Single(answers, a => a.Item1 == 201 && !a.replayed);
        Assert.Single(answers.Where(a => a.Item1 == 201).Select(a => a.body.GetProperty("id").GetString()).Distinct());
        Assert.Equal(750_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);

        // Later: the same pass again, still charged once; a new key is a new pass.
        using var again = await BuyAsync(link.Id, payer.Key, key);
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        Assert.Equal("true", again.Headers.GetValues("X-Payment-Identifier-Replayed").Single());
        Assert.Single(await PassesOfAsync(link.Id));
        using var another = await BuyAsync(link.Id, payer.Key, "buy_" + Guid.NewGuid().ToString("N"));
        Assert.Equal(HttpStatusCode.Created, another.StatusCode);
        Assert.Equal(500_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);

        // The key is the payer's own: another payer's purchase under it is its own, and a malformed key buys nothing.
        var other = await NewPayerAsync(org, new { name = "Other buyer" });
        await fixture.FundAsync(Accounts.Credits(other.Id), 1_000_000);
        using var byOther = await BuyAsync(link.Id, other.Key, key);
        Assert.Equal(HttpStatusCode.Created, byOther.StatusCode);
        using var malformed = await BuyAsync(link.Id, other.Key, "short");
        await ProblemAssert.IsAsync(malformed, 400, "invalid_idempotency_key");
        // A key used for a call on the link is not also a purchase.
        using var call = await fixture.Gateway.Client(other.Key).SendAsync(new HttpRequestMessage(HttpMethod.Get, link.Url) { Headers = { { "Idempotency-Key", key + "_call" } } });
        Assert.Equal(HttpStatusCode.OK, call.StatusCode);
        using var reused = await BuyAsync(link.Id, other.Key, key + "_call");
        await ProblemAssert.IsAsync(reused, 409, "idempotency_key_conflict");
        Assert.Equal(750_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(other.Id), default)).Micros);
    }

    [Fact]
    public async Task A_pass_issued_on_recovery_names_the_allowance_that_paid_for_it()
    {
        using var org = await fixture.NewOrganisationAsync();
        var member = await NewPayerAsync(org, new { name = "Allowance buyer", monthlyAllowance = "1.00" });
        var link = await fixture.NewLinkAsync(org, "0.10", ["allowance", "credits"], extra: new { pass = new { price = "0.25", calls = 2 } });
        await fixture.FundAsync(Accounts.Allowance(member.OrganisationId, member.Id), 1_000_000);
        await fixture.FundAsync(Accounts.Credits(member.Id), 1_000_000);
        var key = "buy_" + Guid.NewGuid().ToString("N");
        using (var bought = await BuyAsync(link.Id, member.Key, key))
        {
            Assert.Equal(HttpStatusCode.Created, bought.StatusCode);
        }
        var first = Assert.Single(await PassesOfAsync(link.Id));
        Assert.Equal(PaymentTypes.Allowance, first.PaidWith);
        var database = fixture.Gateway.Services.GetRequiredService<X402Serverless.Sqlite.SqliteDatabase>();

        // Died after capturing, before the pass was stored or the answer recorded: the retry issues it, labelled as paid.
        await using (var connection = database.Open())
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "DELETE FROM passes WHERE id = $id;";
            command.Parameters.AddWithValue("$id", first.Id);
            Assert.Equal(1, await command.ExecuteNonQueryAsync());
        }
        await ClaimRows.LeaveAsync(database, key);
        using var recovered = await BuyAsync(link.Id, member.Key, key);

        Assert.Equal(HttpStatusCode.Created, recovered.StatusCode);
        var reissued = Assert.Single(await PassesOfAsync(link.Id));
        Assert.Equal(first.Id, reissued.Id);
        Assert.Equal(PaymentTypes.Allowance, reissued.PaidWith);
        Assert.Equal(750_000, (await fixture.Ledger.BalanceAsync(Accounts.Allowance(member.OrganisationId, member.Id), default)).Micros);
        Assert.Equal(1_000_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(member.Id), default)).Micros);
    }

    [Fact]
    public async Task A_retried_purchase_after_a_crash_gets_the_pass_the_captured_hold_bought_and_buys_anew_when_nothing_was_captured()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await NewPayerAsync(org, new { name = "Crash buyer" });
        var link = await fixture.NewLinkAsync(org, "0.10", ["credits"], extra: new { pass = new { price = "0.25", calls = 2 } });
        await fixture.FundAsync(Accounts.Credits(payer.Id), 1_000_000);
        var key = "buy_" + Guid.NewGuid().ToString("N");
        using var bought = await BuyAsync(link.Id, payer.Key, key);
        var pass = (await bought.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        var database = fixture.Gateway.Services.GetRequiredService<X402Serverless.Sqlite.SqliteDatabase>();

        // Died after capturing, before recording: the retry past the lease gets the same pass, not a second charge.
        await ClaimRows.LeaveAsync(database, key);
        using var recovered = await BuyAsync(link.Id, payer.Key, key);
        Assert.Equal(HttpStatusCode.OK, recovered.StatusCode);
        Assert.Equal(pass, (await recovered.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString());
        Assert.Equal(750_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);

        // Died before capturing (its hold never captured): the retry buys, once.
        await ClaimRows.LeaveAsync(database, key, paymentId: "hold_never_captured_" + Guid.NewGuid().ToString("N"));
        using var anew = await BuyAsync(link.Id, payer.Key, key);
        Assert.Equal(HttpStatusCode.Created, anew.StatusCode);
        Assert.NotEqual(pass, (await anew.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString());
        Assert.Equal(500_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);
        using var repeat = await BuyAsync(link.Id, payer.Key, key);
        Assert.Equal("true", repeat.Headers.GetValues("X-Payment-Identifier-Replayed").Single());
        Assert.Equal(500_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);
    }

    [Fact]
    public async Task A_purchase_under_a_key_whose_first_try_found_no_money_buys_when_tried_again_with_money()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await NewPayerAsync(org, new { name = "Short of money" });
        var link = await fixture.NewLinkAsync(org, "0.10", ["credits"], extra: new { pass = new { price = "0.25", calls = 2 } });
        var key = "buy_" + Guid.NewGuid().ToString("N");

        using var broke = await BuyAsync(link.Id, payer.Key, key);
        Assert.Equal(HttpStatusCode.PaymentRequired, broke.StatusCode);
        await fixture.FundAsync(Accounts.Credits(payer.Id), 1_000_000);
        // Nothing was charged under the key, so it is free again and buys now.
        using var bought = await BuyAsync(link.Id, payer.Key, key);
        Assert.Equal(HttpStatusCode.Created, bought.StatusCode);
        Assert.Equal(750_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);
    }

    [Fact]
    public async Task A_thousand_parallel_calls_on_a_pass_with_one_call_left_let_exactly_one_through()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await NewPayerAsync(org, new { name = "Racer" });
        var link = await fixture.NewLinkAsync(org, "0.10", ["credits"], extra: new { pass = new { price = "0.30", calls = 1 } });
        await fixture.FundAsync(Accounts.Credits(payer.Id), 300_000);
        using (var bought = await BuyAsync(link.Id, payer.Key))
        {
            Assert.Equal(HttpStatusCode.Created, bought.StatusCode);
        }

        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = Enumerable.Range(0, 1000).Select(_ => Task.Run(async () =>
        {
            await start.Task;
            using var response = await CallAsync(link.Url, payer.Key);
            return (int)response.StatusCode;
        })).ToList();
        start.SetResult();
        var statuses = await Task.WhenAll(calls);

        Assert.Equal(1, statuses.Count(s => s == 200));
        Assert.Equal(999, statuses.Count(s => s == 402));
        Assert.Equal(1, fixture.Upstream.Hits(link.Path));
        Assert.Equal(0, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);
    }

    [Fact]
    public async Task A_wallet_signs_in_with_x_to_use_its_pass_and_every_other_proof_is_refused_with_the_402_again()
    {
        using var org = await fixture.NewOrganisationAsync();
        var link = await fixture.NewLinkAsync(org, "0.01", ["x402"], kind: "headers", extra: new { pass = new { price = "0.50", calls = 5 } });
        var other = await fixture.NewLinkAsync(org, "0.01", ["x402"], extra: new { pass = new { price = "0.50", calls = 5 } });
        var key = RandomNumberGenerator.GetBytes(32);
        var stranger = RandomNumberGenerator.GetBytes(32);
        await IssueWalletPassAsync(link.Id, key);
        var now = DateTimeOffset.UtcNow;

        var proof = SiwxProofs.For(key, link.Url, now);
        using (var ok = await SignedInAsync(link.Url, SiwxProofs.Signed(proof, key)))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("4", ok.Headers.GetValues("X-Pass-Calls-Left").Single());
            // The proof is the gateway's to check: the upstream never sees it.
            var received = await ok.Content.ReadFromJsonAsync<Dictionary<string, string>>();
            Assert.DoesNotContain("sign-in-with-x", received!.Keys);
        }
        Assert.Equal("invalid_siwx_nonce", await RefusedAsync(link.Url, SiwxProofs.Signed(proof, key)));
        Assert.Equal("invalid_siwx_expired", await RefusedAsync(link.Url,
            SiwxProofs.Signed(SiwxProofs.For(key, link.Url, now.AddMinutes(-4)) with { ExpirationTime = SiwxProofs.Time(now.AddSeconds(-5)) }, key)));
        Assert.Equal("invalid_siwx_issued_at_too_old", await RefusedAsync(link.Url,
            SiwxProofs.Signed(SiwxProofs.For(key, link.Url, now.AddMinutes(-10)) with { ExpirationTime = null }, key)));
        Assert.Equal("invalid_siwx_domain_mismatch", await RefusedAsync(link.Url,
            SiwxProofs.Signed(SiwxProofs.For(key, link.Url, now) with { Domain = "evil.example" }, key)));
        Assert.Equal("invalid_siwx_uri_mismatch", await RefusedAsync(link.Url, SiwxProofs.Signed(SiwxProofs.For(key, other.Url, now), key)));
        // A phishing site's proof for its own domain, relayed with that Host: this gateway has no public address, so the
        // Host cannot name the origin wallets signed for.
        var phished = SiwxProofs.Signed(SiwxProofs.For(key, $"http://evil.example/l/{link.Id}", now), key);
        using (var relayed = new HttpRequestMessage(HttpMethod.Get, link.Url))
        {
            relayed.Headers.Host = "evil.example";
            relayed.Headers.TryAddWithoutValidation(SiwxPayload.HeaderName, phished);
            using var refused = await new HttpClient().SendAsync(relayed);
            Assert.Equal(HttpStatusCode.PaymentRequired, refused.StatusCode);
            Assert.Equal("siwx_needs_public_url", Required(refused).GetProperty("error").GetString());
        }
        Assert.Equal("invalid_siwx_chain_id", await RefusedAsync(link.Url, SiwxProofs.Signed(SiwxProofs.For(key, link.Url, now, chainId: 1), key)));
        // The holder's address, signed by another key.
        Assert.Equal("invalid_siwx_signature", await RefusedAsync(link.Url,
            SiwxProofs.Signed(SiwxProofs.For(stranger, link.Url, now) with { Address = Secp256k1.AddressOf(key).ToString() }, stranger)));
        Assert.Equal("no_pass", await RefusedAsync(link.Url, SiwxProofs.Signed(SiwxProofs.For(stranger, link.Url, now), stranger)));
        Assert.Equal("invalid_siwx_header", await RefusedAsync(link.Url, "not base64 json"));
        Assert.Equal(1, fixture.Upstream.Hits(link.Path));
        Assert.Equal(4, (await PassesOfAsync(link.Id)).Single().CallsLeft);

        // The wallet lists its passes with a proof for the purchase URL.
        var passUrl = $"{fixture.Gateway.BaseUrl}/pass/{link.Id}";
        using var listing = new HttpRequestMessage(HttpMethod.Get, passUrl);
        listing.Headers.Add(SiwxPayload.HeaderName, SiwxProofs.Signed(SiwxProofs.For(key, passUrl, now), key));
        using var listed = await new HttpClient().SendAsync(listing);
        Assert.Equal(4, Assert.Single((await listed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("items").EnumerateArray()).GetProperty("callsLeft").GetInt32());
    }

    [Fact]
    public async Task An_expired_or_revoked_pass_refuses_with_its_code_and_only_its_provider_sees_and_revokes_it()
    {
        using var org = await fixture.NewOrganisationAsync();
        using var otherOrg = await fixture.NewOrganisationAsync();
        var link = await fixture.NewLinkAsync(org, "0.01", ["x402"], extra: new { pass = new { price = "0.50", minutes = 10 } });
        var key = RandomNumberGenerator.GetBytes(32);
        var expiredKey = RandomNumberGenerator.GetBytes(32);
        var pass = await IssueWalletPassAsync(link.Id, key);
        await IssueWalletPassAsync(link.Id, expiredKey, expiresAt: DateTimeOffset.UtcNow.AddMinutes(-1));
        var now = DateTimeOffset.UtcNow;

        Assert.Equal("pass_expired", await RefusedAsync(link.Url, SiwxProofs.Signed(SiwxProofs.For(expiredKey, link.Url, now), expiredKey)));

        using (var notTheirs = await otherOrg.GetAsync($"/api/links/{link.Id}/passes"))
        {
            await ProblemAssert.IsAsync(notTheirs, 404, "not_found");
        }
        using (var notTheirsToRevoke = await otherOrg.PostAsync($"/api/links/{link.Id}/passes/{pass.Id}/revoke", null))
        {
            await ProblemAssert.IsAsync(notTheirsToRevoke, 404, "not_found");
        }
        Assert.Equal(2, (await ListAsync(org, $"/api/links/{link.Id}/passes")).Count);
        using (var revoked = await org.PostAsync($"/api/links/{link.Id}/passes/{pass.Id}/revoke", null))
        {
            Assert.Equal("revoked", (await revoked.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        }
        Assert.Equal("pass_revoked", await RefusedAsync(link.Url, SiwxProofs.Signed(SiwxProofs.For(key, link.Url, now), key)));
        Assert.Equal(0, fixture.Upstream.Hits(link.Path));
    }

    [Fact]
    public async Task A_listed_link_shows_its_pass_on_its_catalogue_page_and_in_discovery()
    {
        using var org = await fixture.NewOrganisationAsync();
        var link = await fixture.NewLinkAsync(org, "0.01", ["x402"], extra: new { name = "Pass weather", listed = true, pass = new { price = "0.50", calls = 10, minutes = 60 } });
        using var client = new HttpClient();
        using var page = new HttpRequestMessage(HttpMethod.Get, $"{fixture.Gateway.BaseUrl}/apis/{link.Id}");
        page.Headers.Accept.ParseAdd("text/html");
        var html = await (await client.SendAsync(page)).Content.ReadAsStringAsync();
        Assert.Contains($"<dd class=\"pass\">$0.50 for 10 calls within 60 minutes (<code>POST {fixture.Gateway.BaseUrl}/pass/{link.Id}</code>)</dd>", html);

        var items = new List<JsonElement>();
        for (var offset = 0; items.Count == offset; offset += 100)
        {
            var discovery = await client.GetFromJsonAsync<JsonElement>($"{fixture.Gateway.BaseUrl}/discovery/resources?limit=100&offset={offset}");
            items.AddRange(discovery.GetProperty("items").EnumerateArray());
        }
        var item = items.Single(i => i.GetProperty("resource").GetString() == link.Url);
        Assert.Equal("0.50", item.GetProperty("metadata").GetProperty("pass").GetProperty("price").GetString());
    }

    /// <summary>A wallet's pass as an x402 purchase issues it (the purchase itself is tested on the chain).</summary>
    private async Task<Pass> IssueWalletPassAsync(string linkId, byte[] key, DateTimeOffset? expiresAt = null)
    {
        var store = fixture.Gateway.Services.GetRequiredService<IPassStore>();
        var link = (await fixture.Gateway.Services.GetRequiredService<ILinkStore>().FindAsync(linkId, default))!;
        var pass = Pass.Issue(link, link.Pass!, PassHolders.Wallet(Secp256k1.AddressOf(key)), "pay_" + Guid.NewGuid().ToString("N"), "x402", DateTimeOffset.UtcNow);
        pass = expiresAt is null ? pass : pass with { ExpiresAt = expiresAt };
        Assert.True(await store.AddAsync(pass, default));
        return pass;
    }

    private async Task<IReadOnlyList<Pass>> PassesOfAsync(string linkId) =>
        await fixture.Gateway.Services.GetRequiredService<IPassStore>().ListForLinkAsync(linkId, 10, default);

    private async Task<HttpResponseMessage> BuyAsync(string linkId, string payerKey, string? idempotencyKey = null)
    {
        using var client = fixture.Gateway.Client(payerKey);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/pass/{linkId}");
        if (idempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        }
        return await client.SendAsync(request);
    }

    private static async Task<HttpResponseMessage> SignedInAsync(string url, string proof)
    {
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation(SiwxPayload.HeaderName, proof);
        return await client.SendAsync(request);
    }

    /// <summary>The error of the 402 a refused proof gets.</summary>
    private static async Task<string?> RefusedAsync(string url, string proof)
    {
        using var response = await SignedInAsync(url, proof);
        Assert.Equal(HttpStatusCode.PaymentRequired, response.StatusCode);
        return Required(response).GetProperty("error").GetString();
    }

    private static JsonElement Required(HttpResponseMessage response) =>
        JsonDocument.Parse(Convert.FromBase64String(response.Headers.GetValues("PAYMENT-REQUIRED").Single())).RootElement.Clone();

    private static async Task<List<JsonElement>> ListAsync(HttpClient client, string url) =>
        (await client.GetFromJsonAsync<JsonElement>(url)).GetProperty("items").EnumerateArray().ToList();
}
