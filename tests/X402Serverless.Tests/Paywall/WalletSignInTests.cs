using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Passes;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Signup;
using X402Serverless.Tests.Credits;
using X402Serverless.Tests.Passes;
using X402Serverless.Tests.Signup;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Paywall;

/// <summary>
/// Paying from credits by wallet sign-in (x402 sign-in-with-x) instead of a payer key: the wallet a payer signed up
/// with (viem-signed sign-up) proves itself per call, once per proof, on this link only; its pass is spent first.
/// </summary>
public sealed class WalletSignInTests(CreditsFixture fixture) : IClassFixture<CreditsFixture>
{
    [Fact]
    public async Task A_wallet_bound_to_a_payer_pays_from_its_credits_once_per_proof_and_on_its_own_link_only()
    {
        using var org = await fixture.NewOrganisationAsync();
        var (_, url, path) = await fixture.NewLinkAsync(org, "0.01", ["credits"]);
        var (_, otherUrl, _) = await fixture.NewLinkAsync(org, "0.01", ["credits"]);
        var (key, payerId, payerKey) = await SignedUpPayerAsync();
        await fixture.FundAsync(Accounts.Credits(payerId), 50_000);

        var proof = SiwxProofs.Signed(ForCredits(key, url), key);
        using (var paid = await SignedInAsync(url, proof))
        {
            Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
            Assert.Equal("0.01", paid.Headers.GetValues("X-Charged").Single());
        }
        // The same proof again (replayed, or captured) buys nothing; a proof for another link neither.
        Assert.Equal("invalid_siwx_nonce", await RefusedAsync(url, proof));
        Assert.Equal("invalid_siwx_uri_mismatch", await RefusedAsync(url, SiwxProofs.Signed(ForCredits(key, otherUrl), key)));
        Assert.Equal(1, fixture.Upstream.Hits(path));
        using var me = fixture.Gateway.Client(payerKey);
        Assert.Equal("0.04", (await me.GetFromJsonAsync<JsonElement>("/api/me")).GetProperty("credits").GetString());
    }

    [Fact]
    public async Task A_wallet_spends_its_own_pass_before_its_payer_accounts_credits()
    {
        using var org = await fixture.NewOrganisationAsync();
        var (linkId, url, path) = await fixture.NewLinkAsync(org, "0.01", ["credits"], extra: new { pass = new { price = "1.00", calls = 1 } });
        var (key, payerId, _) = await SignedUpPayerAsync();
        await fixture.FundAsync(Accounts.Credits(payerId), 50_000);
        var link = (await fixture.Gateway.Services.GetRequiredService<ILinkStore>().FindAsync(linkId, default))!;
        await fixture.Gateway.Services.GetRequiredService<IPassStore>().AddAsync(
            Pass.Issue(link, link.Pass!, PassHolders.Wallet(Secp256k1.AddressOf(key)), "pay_" + Guid.NewGuid().ToString("N"), "x402", DateTimeOffset.UtcNow), default);

        using (var byPass = await SignedInAsync(url, SiwxProofs.Signed(SiwxProofs.For(key, url, DateTimeOffset.UtcNow), key)))
        {
            Assert.Equal(HttpStatusCode.OK, byPass.StatusCode);
            Assert.Equal("0", byPass.Headers.GetValues("X-Pass-Calls-Left").Single());
            Assert.False(byPass.Headers.Contains("X-Charged"));
        }
        // The pass took the plain sign-in statement; credits need the proof to say what it may spend.
        Assert.Equal("invalid_siwx_statement", await RefusedAsync(url, SiwxProofs.Signed(SiwxProofs.For(key, url, DateTimeOffset.UtcNow), key)));
        using (var byCredits = await SignedInAsync(url, SiwxProofs.Signed(ForCredits(key, url), key)))
        {
            Assert.Equal(HttpStatusCode.OK, byCredits.StatusCode);
            Assert.Equal("0.01", byCredits.Headers.GetValues("X-Charged").Single());
        }
        Assert.Equal(2, fixture.Upstream.Hits(path));
    }

    [Fact]
    public async Task A_wallet_bound_to_no_payer_is_refused_and_nothing_is_charged()
    {
        using var org = await fixture.NewOrganisationAsync();
        var (_, url, path) = await fixture.NewLinkAsync(org, "0.01", ["credits"]);
        var key = Convert.FromHexString(SiweSigner.NewKey()[2..]);
        Assert.Equal("no_payer_account", await RefusedAsync(url, SiwxProofs.Signed(ForCredits(key, url), key)));
        // A proof naming a payer's wallet but signed by another key is refused before any account is looked up.
        var (bound, _, _) = await SignedUpPayerAsync();
        Assert.Equal("invalid_siwx_signature", await RefusedAsync(url, SignedBy(SiwxProofs.For(bound, url, DateTimeOffset.UtcNow), key)));
        Assert.Equal(0, fixture.Upstream.Hits(path));
    }

    [Fact]
    public async Task A_proof_spends_credits_only_on_the_path_method_and_up_to_the_amount_it_names()
    {
        using var org = await fixture.NewOrganisationAsync();
        var (linkId, url, path) = await fixture.NewLinkAsync(org, "0.01", ["credits"],
            extra: new { priceRules = new object[] { new { pathPrefix = "/premium", price = "0.25" } } });
        var (key, payerId, payerKey) = await SignedUpPayerAsync();
        await fixture.FundAsync(Accounts.Credits(payerId), 1_000_000);

        // The 402 says what to sign: this method, up to this request's price, and this URL.
        using (var challenge = await new HttpClient().GetAsync(url + "/premium/report"))
        {
            var signIn = JsonDocument.Parse(Convert.FromBase64String(challenge.Headers.GetValues("PAYMENT-REQUIRED").Single())).RootElement
                .GetProperty("extensions").GetProperty("credits").GetProperty("signIn");
            Assert.Equal("Pay up to 0.25 USD for GET from my pass or credits.", signIn.GetProperty("statement").GetString());
            Assert.Equal(url + "/premium/report", signIn.GetProperty("uri").GetString());
        }
        // Signed for a cheap path, sent to a dear one; for a lower amount; for another method; with no bound at all.
        Assert.Equal("invalid_siwx_uri_mismatch", await RefusedAsync(url + "/premium/report", SiwxProofs.Signed(ForCredits(key, url + "/cheap"), key)));
        Assert.Equal("siwx_amount_too_low", await RefusedAsync(url + "/premium/report", SiwxProofs.Signed(ForCredits(key, url + "/premium/report"), key)));
        Assert.Equal("invalid_siwx_statement", await RefusedAsync(url, SiwxProofs.Signed(ForCredits(key, url, method: "POST"), key)));
        Assert.Equal("invalid_siwx_statement", await RefusedAsync(url, SiwxProofs.Signed(
            SiwxProofs.For(key, url, DateTimeOffset.UtcNow) with { Statement = "Pay up to 1e9 USD for GET from my pass or credits." }, key)));
        Assert.Equal(0, fixture.Upstream.Hits(path + "/premium/report") + fixture.Upstream.Hits(path));

        // A proof signed at one price and presented after the provider raised it spends nothing.
        var signedAtOldPrice = SiwxProofs.Signed(ForCredits(key, url), key);
        using (var raise = await org.PatchAsJsonAsync($"/api/links/{linkId}", new { price = "0.02" }))
        {
            Assert.True(raise.IsSuccessStatusCode);
        }
        Assert.Equal("siwx_amount_too_low", await RefusedAsync(url, signedAtOldPrice));
        using var me = fixture.Gateway.Client(payerKey);
        Assert.Equal("1.00", (await me.GetFromJsonAsync<JsonElement>("/api/me")).GetProperty("credits").GetString());

        // The same bound at or above the price pays, once.
        using var paid = await SignedInAsync(url + "/premium/report", SiwxProofs.Signed(ForCredits(key, url + "/premium/report", "0.30"), key));
        Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
        Assert.Equal("0.25", paid.Headers.GetValues("X-Charged").Single());
    }

    /// <summary>A proof that may spend credits: it names this method and the most a call may cost.</summary>
    private static SiwxPayload ForCredits(byte[] key, string url, string max = "0.01", string method = "GET") =>
        SiwxProofs.For(key, url, DateTimeOffset.UtcNow) with { Statement = CreditSpendStatement.For(X402Serverless.Core.Money.Usd.Parse(max), method) };

    /// <summary>The proof (naming its own address) signed by <paramref name="signer"/>, whoever that is.</summary>
    private static string SignedBy(SiwxPayload payload, byte[] signer)
    {
        var chainId = long.Parse(payload.ChainId.AsSpan(7), System.Globalization.CultureInfo.InvariantCulture);
        return (payload with { Signature = PersonalSign.Sign(SiwxMessageText.For(payload, chainId)!, signer) }).Encode();
    }

    /// <summary>A payer who signed up with a fresh wallet (viem signs the sign-up message): the wallet's key, the payer's id and key.</summary>
    private async Task<(byte[] Key, string PayerId, string PayerKey)> SignedUpPayerAsync()
    {
        var key = SiweSigner.NewKey();
        using var anonymous = fixture.Gateway.Client();
        using var response = await SiweSigner.PostAsync(anonymous, "payer", await SiweSigner.SignFreshAsync(anonymous, key, "payer"));
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode, body.ToString());
        return (Convert.FromHexString(key[2..]), body.GetProperty("payer").GetProperty("id").GetString()!, body.GetProperty("key").GetString()!);
    }

    private static async Task<HttpResponseMessage> SignedInAsync(string url, string proof)
    {
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation(SiwxPayload.HeaderName, proof);
        return await client.SendAsync(request);
    }

    private static async Task<string?> RefusedAsync(string url, string proof)
    {
        using var response = await SignedInAsync(url, proof);
        Assert.Equal(HttpStatusCode.PaymentRequired, response.StatusCode);
        return JsonDocument.Parse(Convert.FromBase64String(response.Headers.GetValues("PAYMENT-REQUIRED").Single())).RootElement.GetProperty("error").GetString();
    }
}
