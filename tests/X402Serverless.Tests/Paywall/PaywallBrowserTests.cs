using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Money;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Paywall;

/// <summary>
/// A person opens a paid link in real Chromium and pays on the page: with a browser wallet (an EIP-1193 provider
/// injected into the page whose signatures the test makes with viem, as a wallet extension would), or from credits
/// through the form with script turned off.
/// </summary>
[Collection(ChainGroup.Name)]
public sealed class PaywallBrowserTests(ChainFixture chain) : IAsyncLifetime
{
    // The wallet a page sees: accounts and chain answered at once, signature requests queued for the test to answer.
    private const string InjectedWallet = """
        (() => {
          const pending = [];
          window.__wallet = { pending, methods: [] };
          window.ethereum = {
            request({ method, params }) {
              window.__wallet.methods.push(method);
              switch (method) {
                case 'eth_requestAccounts': case 'eth_accounts': return Promise.resolve([window.__walletAddress]);
                case 'eth_chainId': return Promise.resolve('0x14a34');
                case 'eth_signTypedData_v4': case 'personal_sign': return new Promise((resolve, reject) => pending.push({ method, params, resolve, reject }));
                default: return Promise.reject(Object.assign(new Error('unsupported ' + method), { code: 4200 }));
              }
            },
          };
        })();
        """;

    private WebDriver _browser = null!;

    public async Task InitializeAsync() => _browser = await WebDriver.StartAsync();

    public async Task DisposeAsync() => await _browser.DisposeAsync();

    [Fact]
    public async Task A_browser_wallet_signs_on_the_page_and_gets_the_content_with_its_own_transfer_on_chain()
    {
        var link = await chain.CreateLinkAsync(price: "0.01");
        await _browser.DevToolsAsync("Page.addScriptToEvaluateOnNewDocument", new JsonObject
        {
            ["source"] = $"window.__walletAddress = '{chain.Payer}';\n" + InjectedWallet,
        });
        await _browser.NavigateAsync(link.Url + "/today?city=Oslo");
        Assert.Equal("Payment required: Test API", await _browser.TitleAsync());
        var pay = await _browser.FindAsync("#wallet-pay:not([disabled])");

        // Cancelled in the wallet: nothing is sent, nothing is charged, and the button can be used again.
        await pay.ClickAsync();
        await WaitForSignRequestAsync();
        await _browser.ExecuteAsync("window.__wallet.pending.shift().reject(Object.assign(new Error('User rejected'), { code: 4001 }));");
        await WaitForStatusAsync("Cancelled in the wallet");
        Assert.Equal(0, chain.Upstream.Hits(link.UpstreamPath + "/today"));

        await (await _browser.FindAsync("#wallet-pay:not([disabled])")).ClickAsync();
        var typed = JsonDocument.Parse(await WaitForSignRequestAsync()).RootElement;
        // What the wallet is asked to sign is exactly the link's price to its payTo on the token's EIP-712 domain.
        Assert.Equal("TransferWithAuthorization", typed.GetProperty("primaryType").GetString());
        var domain = typed.GetProperty("domain");
        Assert.Equal(84532, domain.GetProperty("chainId").GetInt32());
        Assert.Equal(chain.Token.ToString(), domain.GetProperty("verifyingContract").GetString());
        Assert.Equal("USD Coin", domain.GetProperty("name").GetString());
        var message = typed.GetProperty("message");
        Assert.Equal(chain.Payer.ToString(), message.GetProperty("from").GetString());
        Assert.Equal(link.PayTo.ToString(), message.GetProperty("to").GetString());
        Assert.Equal("10000", message.GetProperty("value").GetString());

        var signature = await PeerProcess.RunNodeWithInputAsync(null, typed.GetRawText(), "sign-typed.mjs", chain.PayerKeyHex);
        await _browser.ExecuteAsync("window.__wallet.pending.shift().resolve(arguments[0]);", JsonValue.Create(signature.Trim()));

        var status = await WaitForStatusAsync("Paid");
        Assert.Matches("transaction 0x[0-9a-f]{64}", status);
        var answer = JsonDocument.Parse(await _browser.TextAsync("#wallet-result pre")).RootElement;
        Assert.Equal(link.UpstreamPath + "/today", answer.GetProperty("path").GetString());
        Assert.Equal("?city=Oslo", answer.GetProperty("query").GetString());
        Assert.Equal(10_000, await chain.BalanceAsync(link.PayTo));
        Assert.Equal(1, chain.Upstream.Hits(link.UpstreamPath + "/today"));
        await _browser.ScreenshotAsync(Path.Combine(AppContext.BaseDirectory, "screenshots", "paywall-wallet-paid.png"));
    }

    [Fact]
    public async Task With_script_off_a_payer_pays_from_credits_through_the_form_once_and_a_wrong_key_pays_nothing()
    {
        var (linkId, url, path) = await CreditsLinkAsync("ok");
        var (payerKey, credits) = await FundedPayerAsync(50_000);
        await _browser.DevToolsAsync("Emulation.setScriptExecutionDisabled", new JsonObject { ["value"] = true });

        await _browser.NavigateAsync(url + "/report?week=48");
        Assert.Contains("Wallet payment needs script", await _browser.TextAsync("#wallet-status"), StringComparison.Ordinal);
        await _browser.FillAsync("#payer-key", "x402pk_not_a_real_key_of_anyone_at_all");
        await _browser.ClickAsync("#credits button[type=submit]");
        await _browser.WaitForUrlAsync(u => u.Contains("/paywall/", StringComparison.Ordinal));
        Assert.Contains("invalid_payer_key", await _browser.PageSourceAsync(), StringComparison.Ordinal);
        Assert.Equal(0, chain.Upstream.Hits(path + "/report"));

        await _browser.NavigateAsync(url + "/report?week=48");
        await _browser.FillAsync("#payer-key", payerKey);
        await _browser.ClickAsync("#credits button[type=submit]");
        await _browser.WaitForUrlAsync(u => u.EndsWith($"/paywall/{linkId}/report?week=48", StringComparison.Ordinal));
        var answer = JsonDocument.Parse(await _browser.TextAsync("body")).RootElement;
        Assert.Equal(path + "/report", answer.GetProperty("path").GetString());
        Assert.Equal("GET", answer.GetProperty("method").GetString());
        Assert.Equal("", answer.GetProperty("body").GetString());
        Assert.Equal(1, chain.Upstream.Hits(path + "/report"));
        Assert.Equal("0.04", await credits());
        Assert.DoesNotContain(payerKey, await _browser.PageSourceAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_page_runs_only_its_own_nonce_script_and_the_script_is_served_by_the_gateway()
    {
        var (_, url, _) = await CreditsLinkAsync("ok");
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.ParseAdd("text/html");
        using var page = await http.SendAsync(request);
        var html = await page.Content.ReadAsStringAsync();
        var policy = page.Headers.GetValues("Content-Security-Policy").Single();
        var nonce = System.Text.RegularExpressions.Regex.Match(policy, "script-src 'nonce-([^']+)'").Groups[1].Value;
        Assert.NotEmpty(nonce);
        Assert.Contains("default-src 'none'", policy, StringComparison.Ordinal);
        Assert.Contains("connect-src 'self'", policy, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", policy, StringComparison.Ordinal);
        var script = System.Text.RegularExpressions.Regex.Match(html, "<script nonce=\"([^\"]+)\" src=\"([^\"]+)\"");
        Assert.Equal(nonce, script.Groups[1].Value);
        Assert.Equal(1, System.Text.RegularExpressions.Regex.Count(html, "<script"));

        // Every page has its own nonce.
        using var again = new HttpRequestMessage(HttpMethod.Get, url);
        again.Headers.Accept.ParseAdd("text/html");
        using var second = await http.SendAsync(again);
        Assert.NotEqual(policy, second.Headers.GetValues("Content-Security-Policy").Single());

        using var js = await http.GetAsync(chain.Gateway.BaseUrl + WebUtility.HtmlDecode(script.Groups[2].Value));
        Assert.Equal(HttpStatusCode.OK, js.StatusCode);
        Assert.Equal("text/javascript", js.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", js.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Contains("immutable", js.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
        Assert.Contains("eth_signTypedData_v4", await js.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_form_charges_nothing_for_a_failed_call_a_cross_site_post_or_a_malformed_form()
    {
        var (payerKey, credits) = await FundedPayerAsync(50_000);
        var (failingId, _, failingPath) = await CreditsLinkAsync("fail");
        using var http = new HttpClient();

        using (var failed = await PostFormAsync(http, $"/paywall/{failingId}/x", payerKey))
        {
            // The upstream's own failure comes back as it was, and is not charged.
            Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
            Assert.Equal("upstream exploded", await failed.Content.ReadAsStringAsync());
        }
        Assert.Equal(1, chain.Upstream.Hits(failingPath + "/x"));
        Assert.Equal("0.05", await credits());

        var (okId, _, okPath) = await CreditsLinkAsync("ok");
        using (var crossSite = await PostFormAsync(http, $"/paywall/{okId}/x", payerKey, site: "cross-site"))
        {
            await ProblemAssert.IsAsync(crossSite, 403, "cross_site_form");
        }
        using (var notAKey = await PostFormAsync(http, $"/paywall/{okId}/x", "x402sk_management_key_not_a_payer_key"))
        {
            await ProblemAssert.IsAsync(notAKey, 400, "invalid_payer_key");
        }
        using (var json = await http.PostAsJsonAsync(chain.Gateway.BaseUrl + $"/paywall/{okId}/x", new { payerKey }))
        {
            await ProblemAssert.IsAsync(json, 400, "invalid_paywall_form");
        }
        using (var huge = await http.PostAsync(chain.Gateway.BaseUrl + $"/paywall/{okId}/x",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["payerKey"] = payerKey, ["pad"] = new string('a', 10_000) })))
        {
            await ProblemAssert.IsAsync(huge, 400, "invalid_paywall_form");
        }
        using (var unknown = await PostFormAsync(http, "/paywall/lnk_nobody/x", payerKey))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        }
        Assert.Equal(0, chain.Upstream.Hits(okPath + "/x"));
        Assert.Equal("0.05", await credits());
    }

    [Fact]
    public async Task The_forms_action_is_the_same_request_with_its_path_still_escaped()
    {
        var (linkId, url, _) = await CreditsLinkAsync("ok");
        using var request = new HttpRequestMessage(HttpMethod.Get, url + "/a%3Fb%23c?week=48");
        request.Headers.Accept.ParseAdd("text/html");
        using var page = await new HttpClient().SendAsync(request);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains($"action=\"/paywall/{linkId}/a%3Fb%23c?week=48\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_same_form_sent_twice_pays_once_and_gets_its_first_answer_again()
    {
        var (linkId, url, okPath) = await CreditsLinkAsync("ok");
        var (payerKey, credits) = await FundedPayerAsync(50_000);
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, url + "/x");
        request.Headers.Accept.ParseAdd("text/html");
        using var page = await http.SendAsync(request);
        var html = await page.Content.ReadAsStringAsync();
        var key = System.Text.RegularExpressions.Regex.Match(html, "name=\"idempotencyKey\" value=\"([A-Za-z0-9_-]{16,128})\"").Groups[1].Value;
        Assert.NotEmpty(key);

        // A double click, or a reload that posts the form again.
        using var first = await PostFormAsync(http, $"/paywall/{linkId}/x", payerKey, idempotencyKey: key);
        using var again = await PostFormAsync(http, $"/paywall/{linkId}/x", payerKey, idempotencyKey: key);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await again.Content.ReadAsStringAsync());
        Assert.Equal("true", again.Headers.GetValues("X-Payment-Identifier-Replayed").Single());
        Assert.Equal(1, chain.Upstream.Hits(okPath + "/x"));
        Assert.Equal("0.04", await credits());

        // Another rendering of the page is another purchase.
        using var second = await PostFormAsync(http, $"/paywall/{linkId}/x", payerKey, idempotencyKey: "pw_" + Guid.NewGuid().ToString("N"));
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("0.03", await credits());
    }

    [Fact]
    public async Task A_link_without_credits_offers_no_form_and_refuses_one()
    {
        var link = await chain.CreateLinkAsync(price: "0.01");
        var (payerKey, credits) = await FundedPayerAsync(50_000);
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, link.Url);
        request.Headers.Accept.ParseAdd("text/html");
        using var page = await http.SendAsync(request);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("id=\"wallet-pay\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("payerKey", html, StringComparison.Ordinal);

        using var posted = await PostFormAsync(http, "/paywall/" + link.Id, payerKey);
        Assert.Equal(HttpStatusCode.PaymentRequired, posted.StatusCode);
        Assert.Equal(0, chain.Upstream.Hits(link.UpstreamPath));
        Assert.Equal("0.05", await credits());
    }

    [Fact]
    public async Task A_payer_signs_in_with_the_wallet_it_signed_up_with_and_pays_from_its_credits_without_a_key()
    {
        var (_, url, path) = await CreditsLinkAsync("ok");
        var walletKey = Signup.SiweSigner.NewKey();
        using var anonymous = chain.Gateway.Client();
        using var signedUp = await Signup.SiweSigner.PostAsync(anonymous, "payer", await Signup.SiweSigner.SignFreshAsync(anonymous, walletKey, "payer"));
        var signup = await signedUp.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(signedUp.IsSuccessStatusCode, signup.ToString());
        var payerId = signup.GetProperty("payer").GetProperty("id").GetString()!;
        var wallet = signup.GetProperty("wallet").GetString()!;
        await chain.Gateway.Services.GetRequiredService<ILedger>().PostAsync(
            LedgerEntry.Transfer($"test-fund:{Guid.NewGuid():N}", "topup", Accounts.CardClearing, Accounts.Credits(payerId), Usd.FromMicros(50_000)), [], default);
        // As many wallets do, this one gives its address in lower case: the page writes it checksummed (EIP-55) in the proof.
        await _browser.DevToolsAsync("Page.addScriptToEvaluateOnNewDocument", new JsonObject
        {
            ["source"] = $"window.__walletAddress = '{wallet.ToLowerInvariant()}';\n" + InjectedWallet,
        });

        await _browser.NavigateAsync(url + "/report?week=48");
        await (await _browser.FindAsync("#signin-pay:not([disabled])")).ClickAsync();
        var request = await WaitForPersonalSignAsync();
        var text = System.Text.Encoding.UTF8.GetString(Convert.FromHexString(request.Message[2..]));
        Assert.StartsWith($"{new Uri(url).Authority} wants you to sign in with your Ethereum account:\n{wallet}\n", text, StringComparison.Ordinal);
        Assert.Contains($"\nURI: {url}/report?week=48\n", text, StringComparison.Ordinal);
        Assert.Equal(wallet, request.Address);
        var signature = await PeerProcess.RunNodeWithInputAsync(null, request.Message, "personal-sign.mjs", walletKey);
        await _browser.ExecuteAsync("window.__wallet.pending.shift().resolve(arguments[0]);", JsonValue.Create(signature.Trim()));

        var status = await WaitForStatusAsync("#signin-status", "Paid from your credits");
        Assert.Contains("0.01", status, StringComparison.Ordinal);
        var answer = JsonDocument.Parse(await _browser.TextAsync("#signin-result pre")).RootElement;
        Assert.Equal(path + "/report", answer.GetProperty("path").GetString());
        Assert.Equal(1, chain.Upstream.Hits(path + "/report"));
        using (var me = chain.Gateway.Client(signup.GetProperty("key").GetString()))
        {
            Assert.Equal("0.04", (await me.GetFromJsonAsync<JsonElement>("/api/me")).GetProperty("credits").GetString());
        }

        // A wallet that never signed up as a payer is refused, and nothing is charged.
        var strangerKey = Signup.SiweSigner.NewKey();
        var stranger = X402Serverless.Core.Crypto.Secp256k1.AddressOf(Convert.FromHexString(strangerKey[2..])).ToLowerHex();
        await _browser.DevToolsAsync("Page.addScriptToEvaluateOnNewDocument", new JsonObject { ["source"] = $"window.__walletAddress = '{stranger}';" });
        await _browser.NavigateAsync(url + "/report?week=48");
        await (await _browser.FindAsync("#signin-pay:not([disabled])")).ClickAsync();
        var strangers = await WaitForPersonalSignAsync();
        var refusedSignature = await PeerProcess.RunNodeWithInputAsync(null, strangers.Message, "personal-sign.mjs", strangerKey);
        await _browser.ExecuteAsync("window.__wallet.pending.shift().resolve(arguments[0]);", JsonValue.Create(refusedSignature.Trim()));
        Assert.Contains("no_payer_account", await WaitForStatusAsync("#signin-status", "Not paid (402"), StringComparison.Ordinal);
        Assert.Equal(1, chain.Upstream.Hits(path + "/report"));
    }

    private async Task<(string Message, string Address)> WaitForPersonalSignAsync()
    {
        var found = await Poll.UntilAsync(async () =>
        {
            var value = await _browser.ExecuteAsync(
                "const p = window.__wallet && window.__wallet.pending[0]; return p && p.method === 'personal_sign' ? p.params : null;");
            return value.ValueKind == JsonValueKind.Array ? value.GetRawText() : null;
        }, TimeSpan.FromSeconds(20));
        var parameters = JsonDocument.Parse(found).RootElement;
        return (parameters[0].GetString()!, parameters[1].GetString()!);
    }

    private async Task<string> WaitForSignRequestAsync()
    {
        var found = await Poll.UntilAsync(async () =>
        {
            var value = await _browser.ExecuteAsync("const p = window.__wallet && window.__wallet.pending[0]; return p ? p.params[1] : null;");
            return value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        }, TimeSpan.FromSeconds(20));
        return found;
    }

    private Task<string> WaitForStatusAsync(string start) => WaitForStatusAsync("#wallet-status", start);

    private async Task<string> WaitForStatusAsync(string element, string start) =>
        await Poll.UntilAsync(async () =>
        {
            var text = await _browser.TextAsync(element);
            return text.StartsWith(start, StringComparison.Ordinal) ? text : null;
        }, TimeSpan.FromSeconds(30));

    private async Task<(string Id, string Url, string Path)> CreditsLinkAsync(string kind)
    {
        var path = $"/{kind}/{Guid.NewGuid():N}";
        var (id, url) = await chain.Gateway.CreateLinkAsync(new
        {
            upstream = chain.Upstream.BaseUrl + path,
            price = "0.01",
            payTo = ChainFixture.NewAddress().ToString(),
            name = "Credits API",
            accepts = new[] { "x402", "credits" },
        });
        return (id, url, path);
    }

    private async Task<(string Key, Func<Task<string>> Credits)> FundedPayerAsync(long micros)
    {
        using var created = await chain.Gateway.Admin.PostAsJsonAsync("/api/payers", new { name = "Paywall payer" });
        var json = await created.Content.ReadFromJsonAsync<JsonElement>();
        var id = json.GetProperty("payer").GetProperty("id").GetString()!;
        var key = json.GetProperty("key").GetString()!;
        await chain.Gateway.Services.GetRequiredService<ILedger>().PostAsync(
            LedgerEntry.Transfer($"test-fund:{Guid.NewGuid():N}", "topup", Accounts.CardClearing, Accounts.Credits(id), Usd.FromMicros(micros)), [], default);
        return (key, async () =>
        {
            using var client = chain.Gateway.Client(key);
            return (await client.GetFromJsonAsync<JsonElement>("/api/me")).GetProperty("credits").GetString()!;
        });
    }

    private async Task<HttpResponseMessage> PostFormAsync(HttpClient http, string path, string payerKey, string site = "same-origin", string? idempotencyKey = null)
    {
        var fields = new Dictionary<string, string> { ["payerKey"] = payerKey };
        if (idempotencyKey is not null)
        {
            fields["idempotencyKey"] = idempotencyKey;
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, chain.Gateway.BaseUrl + path) { Content = new FormUrlEncodedContent(fields) };
        request.Headers.Add("Sec-Fetch-Site", site);
        return await http.SendAsync(request);
    }
}
