using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Webhooks;
using X402Serverless.Tests.Credits;
using static X402Serverless.Tests.Credits.CreditsFixture;

namespace X402Serverless.Tests.Kyc;

/// <summary>
/// KYC once: the provider's signed callback is stored, queued and applied, and every link that asks for a level
/// honours it. Credit payers are checked by account; x402 wallets in <see cref="EndToEnd.KycWalletTests"/>.
/// </summary>
public sealed class KycFlowTests(CreditsFixture fixture) : IClassFixture<CreditsFixture>
{
    private static readonly DateTimeOffset Decided = DateTimeOffset.UtcNow.AddMinutes(-10);

    // Computed here with the framework's HMAC, independently of the gateway's verifier.
    private static string Sign(string body, string secret = KycWebhookSecret, long? at = null)
    {
        var t = at ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{t.ToString(CultureInfo.InvariantCulture)}.{body}"));
        return $"t={t.ToString(CultureInfo.InvariantCulture)},v1={Convert.ToHexStringLower(mac)}";
    }

    private static string Event(string subject, string status, DateTimeOffset decidedAt, string level = "basic", string? id = null, string[]? wallets = null) =>
        JsonSerializer.Serialize(new
        {
            id = id ?? "kev_" + Guid.NewGuid().ToString("N"), type = "verification.updated", subject, status, level, country = "NL",
            reference = "inq_" + subject, decidedAt = decidedAt.ToString("O", CultureInfo.InvariantCulture), wallets = wallets ?? [],
        });

    private async Task<HttpResponseMessage> CallbackAsync(string body, string? signature)
    {
        using var client = fixture.Gateway.Client();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/kyc") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (signature is not null)
        {
            request.Headers.Add("Kyc-Signature", signature);
        }
        return await client.SendAsync(request);
    }

    private async Task<JsonElement> KycOfAsync(string payerKey, Func<JsonElement, bool> until)
    {
        using var me = fixture.Gateway.Client(payerKey);
        for (var i = 0; ; i++)
        {
            var kyc = (await me.GetFromJsonAsync<JsonElement>("/api/me")).GetProperty("kyc");
            if (until(kyc) || i == 100)
            {
                return kyc;
            }
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task A_payer_verified_once_pays_every_kyc_link_and_is_refused_unpaid_before_and_after_revocation()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await NewPayerAsync(org, new { name = "Verified agent" });
        await fixture.FundAsync(Accounts.Credits(payer.Id), 100_000);
        var basic = await fixture.NewLinkAsync(org, "0.01", ["credits"], extra: new { kycLevel = "basic" });
        var full = await fixture.NewLinkAsync(org, "0.01", ["credits"], extra: new { kycLevel = "FULL" });

        using (var refused = await CallAsync(basic.Url, payer.Key))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal("kyc_required", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        }
        Assert.Equal(0, fixture.Upstream.Hits(basic.Path));
        Assert.Equal(100_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);

        using var me = fixture.Gateway.Client(payer.Key);
        using (var start = await me.PostAsync("/api/me/kyc", null))
        {
            var body = await start.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal($"https://verify.example/start?ref={payer.Id}", body.GetProperty("verificationUrl").GetString());
            Assert.Equal("none", body.GetProperty("current").GetProperty("status").GetString());
        }

        var verified = Event(payer.Id, "verified", Decided);
        using (var accepted = await CallbackAsync(verified, Sign(verified)))
        {
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
            Assert.False((await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("duplicate").GetBoolean());
        }
        using (var again = await CallbackAsync(verified, Sign(verified)))
        {
            Assert.True((await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("duplicate").GetBoolean());
        }
        var kyc = await KycOfAsync(payer.Key, k => k.GetProperty("status").GetString() == "verified");
        Assert.Equal(("verified", "basic", "NL"), (kyc.GetProperty("status").GetString(), kyc.GetProperty("level").GetString(), kyc.GetProperty("country").GetString()));

        using (var paid = await CallAsync(basic.Url, payer.Key))
        {
            Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
        }
        using (var tooLow = await CallAsync(full.Url, payer.Key))
        {
            Assert.Equal(HttpStatusCode.Forbidden, tooLow.StatusCode);
        }
        Assert.Equal(0, fixture.Upstream.Hits(full.Path));

        // A late redelivery of an older rejection changes nothing; a newer revocation does.
        var stale = Event(payer.Id, "rejected", Decided.AddMinutes(-5));
        using (await CallbackAsync(stale, Sign(stale)))
        {
        }
        var revoked = Event(payer.Id, "revoked", Decided.AddMinutes(5));
        using (await CallbackAsync(revoked, Sign(revoked)))
        {
        }
        kyc = await KycOfAsync(payer.Key, k => k.GetProperty("status").GetString() == "revoked");
        Assert.Equal("revoked", kyc.GetProperty("status").GetString());
        using (var afterRevocation = await CallAsync(basic.Url, payer.Key))
        {
            Assert.Equal(HttpStatusCode.Forbidden, afterRevocation.StatusCode);
        }
        Assert.Equal(1, fixture.Upstream.Hits(basic.Path));
        Assert.Equal(100_000 - 10_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);

        // The organisation sees its member's verification too.
        var view = await org.GetFromJsonAsync<JsonElement>($"/api/payers/{payer.Id}");
        Assert.Equal("revoked", view.GetProperty("kyc").GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_verified_wallet_gets_an_attestation_that_an_outside_service_verifies_with_viem_and_nobody_else_does()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await NewPayerAsync(org, new { name = "Portable identity" });
        using var me = fixture.Gateway.Client(payer.Key);
        const string wallet = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23";

        using (var early = await me.PostAsJsonAsync("/api/me/kyc/attestations", new { wallet }))
        {
            Assert.Equal(HttpStatusCode.Conflict, early.StatusCode);
            Assert.Equal("kyc_not_verified", (await early.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        }
        var verified = Event(payer.Id, "verified", Decided, level: "full", wallets: [wallet]);
        using (await CallbackAsync(verified, Sign(verified)))
        {
        }
        await KycOfAsync(payer.Key, k => k.GetProperty("status").GetString() == "verified");

        using var issued = await me.PostAsJsonAsync("/api/me/kyc/attestations", new { wallet = wallet.ToLowerInvariant() });
        Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
        var attestation = await issued.Content.ReadFromJsonAsync<JsonElement>();
        var message = attestation.GetProperty("message");
        Assert.Equal((wallet, "full", "NL"), (message.GetProperty("wallet").GetString(), message.GetProperty("level").GetString(), message.GetProperty("country").GetString()));
        Assert.Equal(24 * 3600, message.GetProperty("expiresAt").GetInt64() - message.GetProperty("issuedAt").GetInt64());

        using var anonymous = new HttpClient();
        var published = await anonymous.GetFromJsonAsync<JsonElement>(fixture.Gateway.BaseUrl + "/.well-known/x402-kyc");
        var signer = published.GetProperty("signer").GetString()!;
        Assert.Equal(X402Serverless.Core.Crypto.Secp256k1.AddressOf(Convert.FromHexString(KycAttestationKey[2..])).ToString(), signer);
        Assert.Equal(signer, attestation.GetProperty("signer").GetString());

        async Task<string> ViemSaysAsync(JsonElement m, string by) => await Support.PeerProcess.RunNodeWithInputAsync(null, JsonSerializer.Serialize(new
        {
            signer = by, typedData = published.GetProperty("typedData"), message = m, signature = attestation.GetProperty("signature").GetString(),
        }), "verify-kyc.mjs");
        Assert.Equal("true", await ViemSaysAsync(message, signer));
        var upgraded = JsonSerializer.SerializeToElement(new
        {
            wallet, level = "full", country = "US", issuedAt = message.GetProperty("issuedAt").GetInt64(), expiresAt = message.GetProperty("expiresAt").GetInt64(),
        });
        Assert.Equal("false", await ViemSaysAsync(upgraded, signer));
        Assert.Equal("false", await ViemSaysAsync(message, "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"));

        using (var foreign = await me.PostAsJsonAsync("/api/me/kyc/attestations", new { wallet = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C" }))
        {
            Assert.Equal("wallet_not_verified", (await foreign.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        }
        using (var garbage = await me.PostAsJsonAsync("/api/me/kyc/attestations", new { wallet = "not-an-address" }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, garbage.StatusCode);
            Assert.Equal("invalid_wallet", (await garbage.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        }
    }

    [Fact]
    public async Task A_link_limited_to_some_countries_takes_verified_payers_from_them_only()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await NewPayerAsync(org, new { name = "Dutch agent" });
        await fixture.FundAsync(Accounts.Credits(payer.Id), 100_000);
        var verified = Event(payer.Id, "verified", Decided);
        using (await CallbackAsync(verified, Sign(verified)))
        {
        }
        await KycOfAsync(payer.Key, k => k.GetProperty("status").GetString() == "verified");
        var germanOnly = await fixture.NewLinkAsync(org, "0.01", ["credits"], extra: new { kycCountries = new[] { "de" } });
        var benelux = await fixture.NewLinkAsync(org, "0.01", ["credits"], extra: new { kycCountries = new[] { "BE", "NL", "LU" } });

        using (var refused = await CallAsync(germanOnly.Url, payer.Key))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Contains("from DE", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
        using (var paid = await CallAsync(benelux.Url, payer.Key))
        {
            Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
        }
        var view = await org.GetFromJsonAsync<JsonElement>($"/api/links/{germanOnly.Id}");
        Assert.Equal("basic", view.GetProperty("kycLevel").GetString()); // countries imply a verification
        Assert.Equal(["DE"], view.GetProperty("kycCountries").EnumerateArray().Select(c => c.GetString()));

        using var anonymous = new HttpClient();
        using var unpaid = await anonymous.GetAsync(benelux.Url);
        var required = JsonDocument.Parse(Convert.FromBase64String(unpaid.Headers.GetValues("PAYMENT-REQUIRED").Single())).RootElement;
        Assert.Equal(["BE", "NL", "LU"], required.GetProperty("extensions").GetProperty("kyc").GetProperty("countries").EnumerateArray().Select(c => c.GetString()));

        using var bad = await org.PostAsJsonAsync("/api/links", new
        {
            upstream = fixture.Upstream.BaseUrl + "/ok/x", price = "0.01", payTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", kycLevel = "none", kycCountries = new[] { "Germany" },
        });
        var codes = (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("code").GetString()).ToList();
        Assert.Contains("invalid_country", codes);
        Assert.Contains("kyc_countries_need_level", codes);
    }

    [Fact]
    public async Task A_kyc_link_says_so_in_its_402_and_links_without_kyc_take_unverified_payers()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await NewPayerAsync(org, new { name = "Anyone" });
        await fixture.FundAsync(Accounts.Credits(payer.Id), 10_000);
        var open = await fixture.NewLinkAsync(org, "0.01", ["credits"]);
        var guarded = await fixture.NewLinkAsync(org, "0.01", ["credits"], extra: new { kycLevel = "basic" });

        using var client = new HttpClient();
        using var unpaid = await client.GetAsync(guarded.Url);
        Assert.Equal(HttpStatusCode.PaymentRequired, unpaid.StatusCode);
        var required = JsonDocument.Parse(Convert.FromBase64String(unpaid.Headers.GetValues("PAYMENT-REQUIRED").Single())).RootElement;
        var kyc = required.GetProperty("extensions").GetProperty("kyc");
        Assert.Equal("basic", kyc.GetProperty("level").GetString());
        Assert.EndsWith("/api/me/kyc", kyc.GetProperty("verifyUrl").GetString(), StringComparison.Ordinal);

        using var paid = await CallAsync(open.Url, payer.Key);
        Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
    }

    [Fact]
    public async Task Callbacks_that_do_not_verify_or_are_malformed_are_refused_and_stored_nowhere()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await NewPayerAsync(org, new { name = "Target" });
        var body = Event(payer.Id, "verified", Decided, level: "full");

        async Task<string> CodeAsync(string json, string? signature)
        {
            using var response = await CallbackAsync(json, signature);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString()!;
        }

        Assert.Equal("signature_invalid", await CodeAsync(body, null));
        Assert.Equal("signature_invalid", await CodeAsync(body, Sign(body, secret: "someone_elses_secret")));
        Assert.Equal("signature_invalid", await CodeAsync(body.Replace("full", "basic", StringComparison.Ordinal), Sign(body)));
        Assert.Equal("signature_stale", await CodeAsync(body, Sign(body, at: DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeSeconds())));
        const string malformed = """{"id":"kev_bad","subject":"x","status":"approved","decidedAt":"2026-11-21T10:00:00Z"}""";
        Assert.Equal("invalid_event", await CodeAsync(malformed, Sign(malformed)));

        // Refused before storage: no event with this id exists to be applied, now or later.
        var inbox = fixture.Gateway.Services.GetRequiredKeyedService<IWebhookInbox>(WebhookSources.Kyc);
        Assert.Null(await inbox.PayloadAsync(JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!, default));
        Assert.Null(await inbox.PayloadAsync("kev_bad", default));
        var kyc = await KycOfAsync(payer.Key, _ => true);
        Assert.Equal("none", kyc.GetProperty("status").GetString());
    }

    [Fact]
    public async Task The_queue_function_applies_a_stored_decision_as_the_host_invokes_it_and_names_unknown_subjects()
    {
        var eventId = "kev_unknown_" + Guid.NewGuid().ToString("N");
        var unknown = Event("pay_does_not_exist", "verified", Decided, id: eventId);
        using (var accepted = await CallbackAsync(unknown, Sign(unknown)))
        {
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        }
        // The Service Bus trigger's message as the host sends it: the binding named "evt", a double-encoded string.
        var invocation = JsonSerializer.Serialize(new { Data = new { evt = JsonSerializer.Serialize(new { eventId }) }, Metadata = new { } });
        using var client = fixture.Gateway.Client();
        using var response = await client.PostAsync("/KycEventWorker", new StringContent(invocation, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("KYC event: unknown_subject", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("Logs")[0].GetString());
    }

    [Fact]
    public async Task A_bad_kyc_level_on_a_link_is_a_clear_error()
    {
        using var org = await fixture.NewOrganisationAsync();
        using var bad = await org.PostAsJsonAsync("/api/links", new
        {
            upstream = fixture.Upstream.BaseUrl + "/ok/x", price = "0.01", payTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", kycLevel = "platinum",
        });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var problem = await bad.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains(problem.GetProperty("errors").EnumerateArray(), e => e.GetProperty("code").GetString() == "invalid_kyc_level");
    }
}
