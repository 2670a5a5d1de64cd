using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Signup;

/// <summary>Self-serve sign-up with Sign-In with Ethereum, messages built and signed by viem, on the real gateway (SQLite).</summary>
public sealed class SignupTests : IAsyncLifetime
{
    private GatewayHost _gateway = null!;

    internal static Dictionary<string, string?> Settings(int requestsPerMinute = 100_000) => new()
    {
        ["X402:FacilitatorUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}",
        ["X402:Signup:RequestsPerMinute"] = requestsPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    public async Task InitializeAsync() => _gateway = await GatewayHost.StartAsync(Settings());

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task A_provider_signs_up_with_a_wallet_its_key_works_and_a_later_sign_in_gets_another_key_of_the_same_organisation()
    {
        using var anonymous = _gateway.Client();
        var wallet = SiweSigner.NewKey();

        var nonce = await SiweSigner.NonceAsync(anonymous);
        Assert.Equal(new Uri(_gateway.BaseUrl).Authority, nonce.GetProperty("domain").GetString());
        Assert.Contains(SiweSigner.BaseSepolia, nonce.GetProperty("chainIds").EnumerateArray().Select(c => c.GetInt64()));
        Assert.Equal(32, nonce.GetProperty("nonce").GetString()!.Length);
        var first = (await SiweSigner.SignAsync(SiweSigner.For(nonce, wallet, DateTimeOffset.UtcNow)))[0];

        using var created = await SiweSigner.PostAsync(anonymous, "provider", first, "Weather Co");
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(HttpStatusCode.Created == created.StatusCode, body.ToString());
        Assert.True(body.GetProperty("isNew").GetBoolean());
        Assert.Equal(first.Address, body.GetProperty("wallet").GetString());
        Assert.Equal("Weather Co", body.GetProperty("organisation").GetProperty("name").GetString());
        var organisationId = body.GetProperty("organisation").GetProperty("id").GetString();
        var key = body.GetProperty("key").GetString()!;
        Assert.StartsWith("x402sk_", key);

        using var provider = _gateway.Client(key);
        var me = await provider.GetFromJsonAsync<JsonElement>("/api/organisation");
        Assert.Equal(organisationId, me.GetProperty("id").GetString());
        Assert.False(me.GetProperty("isOperator").GetBoolean());
        using (var payer = await provider.PostAsJsonAsync("/api/payers", new { name = "A member" }))
        {
            Assert.Equal(HttpStatusCode.Created, payer.StatusCode);
        }

        var again = await SiweSigner.SignFreshAsync(anonymous, wallet);
        using var signedIn = await SiweSigner.PostAsync(anonymous, "provider", again);
        var second = await signedIn.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(HttpStatusCode.OK == signedIn.StatusCode, second.ToString());
        Assert.False(second.GetProperty("isNew").GetBoolean());
        Assert.Equal(organisationId, second.GetProperty("organisation").GetProperty("id").GetString());
        Assert.NotEqual(key, second.GetProperty("key").GetString());
        using var provider2 = _gateway.Client(second.GetProperty("key").GetString());
        var keys = await provider2.GetFromJsonAsync<JsonElement>("/api/keys");
        Assert.Equal(2, keys.GetProperty("items").GetArrayLength());
        Assert.Equal(1, (await provider2.GetFromJsonAsync<JsonElement>("/api/payers")).GetProperty("items").GetArrayLength());

        // Both sign-ins are in the organisation's audit log, by the wallet, without the keys they were given.
        var audit = (await provider2.GetFromJsonAsync<JsonElement>("/api/audit?targetType=key")).GetProperty("items").EnumerateArray()
            .Concat((await provider2.GetFromJsonAsync<JsonElement>("/api/audit?action=organisation.signup")).GetProperty("items").EnumerateArray()).ToList();
        Assert.Equal(["key.signup", "organisation.signup"], audit.Select(e => e.GetProperty("action").GetString()));
        Assert.All(audit, e => Assert.Equal(("wallet", first.Address), (e.GetProperty("actor").GetProperty("kind").GetString(), e.GetProperty("actor").GetProperty("id").GetString())));
        Assert.DoesNotContain(key, string.Join("", audit), StringComparison.Ordinal);
        Assert.DoesNotContain(second.GetProperty("key").GetString()!, string.Join("", audit), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_payer_signs_up_with_a_wallet_and_gets_a_payer_account_whose_key_pays_and_reads_api_me()
    {
        using var anonymous = _gateway.Client();
        var wallet = SiweSigner.NewKey();
        var signed = await SiweSigner.SignFreshAsync(anonymous, wallet, "payer");

        using var created = await SiweSigner.PostAsync(anonymous, "payer", signed);
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(HttpStatusCode.Created == created.StatusCode, body.ToString());
        var payerId = body.GetProperty("payer").GetProperty("id").GetString();
        Assert.Equal(signed.Address, body.GetProperty("payer").GetProperty("name").GetString());
        Assert.Equal("0.00", body.GetProperty("payer").GetProperty("credits").GetString());
        Assert.Equal("none", body.GetProperty("payer").GetProperty("kyc").GetProperty("status").GetString());
        var key = body.GetProperty("key").GetString()!;
        Assert.StartsWith("x402pk_", key);

        using var payer = _gateway.Client(key);
        Assert.Equal(payerId, (await payer.GetFromJsonAsync<JsonElement>("/api/me")).GetProperty("id").GetString());
        Assert.Single((await payer.GetFromJsonAsync<JsonElement>("/api/me/keys")).GetProperty("items").EnumerateArray());
        // A payer of the operator's marketplace: the operator sees it and can help (revoke a leaked key, grant credit).
        Assert.Equal(HttpStatusCode.OK, (await _gateway.Admin.GetAsync($"/api/payers/{payerId}")).StatusCode);

        using var again = await SiweSigner.PostAsync(anonymous, "payer", await SiweSigner.SignFreshAsync(anonymous, wallet, "payer"));
        var second = await again.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(payerId, second.GetProperty("payer").GetProperty("id").GetString());
        Assert.Equal(2, (await payer.GetFromJsonAsync<JsonElement>("/api/me/keys")).GetProperty("items").GetArrayLength());

        // The same wallet may also be a provider: one account per role.
        using var asProvider = await SiweSigner.PostAsync(anonymous, "provider", await SiweSigner.SignFreshAsync(anonymous, wallet));
        Assert.Equal(HttpStatusCode.Created, asProvider.StatusCode);
    }

    [Fact]
    public async Task Messages_that_are_not_current_not_for_this_gateway_or_not_signed_by_their_address_are_refused()
    {
        using var anonymous = _gateway.Client();
        var wallet = SiweSigner.NewKey();
        var other = SiweSigner.NewKey();
        var now = DateTimeOffset.UtcNow;
        var nonces = new List<JsonElement>();
        for (var i = 0; i < 8; i++)
        {
            nonces.Add(await SiweSigner.NonceAsync(anonymous));
        }
        var otherAddress = (await SiweSigner.SignAsync(SiweSigner.For(nonces[0], other, now)))[0].Address;
        var cases = new (string Code, SiweSpec Spec)[]
        {
            ("siwe_expired", SiweSigner.For(nonces[0], wallet, now.AddMinutes(-5)) with { ExpirationTime = now.AddMinutes(-1) }),
            ("siwe_not_yet_valid", SiweSigner.For(nonces[1], wallet, now) with { NotBefore = now.AddMinutes(10) }),
            ("siwe_issued_in_future", SiweSigner.For(nonces[2], wallet, now.AddMinutes(10))),
            ("siwe_wrong_domain", SiweSigner.For(nonces[3], wallet, now) with { Domain = "gateway.example.com" }),
            ("siwe_wrong_uri", SiweSigner.For(nonces[4], wallet, now) with { Uri = "https://gateway.example.com/console" }),
            ("siwe_wrong_chain", SiweSigner.For(nonces[5], wallet, now) with { ChainId = 1 }),
            ("siwe_signature_invalid", SiweSigner.For(nonces[6], wallet, now) with { Address = otherAddress }),
            ("siwe_nonce_unknown", SiweSigner.For(nonces[7], wallet, now) with { Nonce = "0123456789abcdef0123456789abcdef" }),
        };
        var signed = await SiweSigner.SignAsync([.. cases.Select(c => c.Spec), .. nonces.Select(n => SiweSigner.For(n, wallet, now))]);
        for (var i = 0; i < cases.Length; i++)
        {
            using var refused = await SiweSigner.PostAsync(anonymous, "provider", signed[i]);
            await ProblemAssert.IsAsync(refused, 401, cases[i].Code, cases[i].Code);
        }

        // A refused message leaves its nonce usable: each nonce above still signs the wallet up once.
        using (var ok = await SiweSigner.PostAsync(anonymous, "provider", signed[cases.Length]))
        {
            Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        }
        // Replayed: the same signed message again.
        using (var replay = await SiweSigner.PostAsync(anonymous, "provider", signed[cases.Length]))
        {
            await ProblemAssert.IsAsync(replay, 401, "siwe_nonce_used");
        }
    }

    [Fact]
    public async Task Malformed_bodies_messages_and_signatures_are_problems_never_500s()
    {
        using var anonymous = _gateway.Client();
        var signed = await SiweSigner.SignFreshAsync(anonymous, SiweSigner.NewKey());
        async Task Expect(int status, string code, HttpContent content)
        {
            using var response = await anonymous.PostAsync("/api/signup/provider", content);
            await ProblemAssert.IsAsync(response, status, code, code);
        }
        HttpContent Json(object body) => JsonContent.Create(body);

        await Expect(400, "invalid_json", new StringContent("{", Encoding.UTF8, "application/json"));
        await Expect(400, "required", Json(new { message = signed.Message }));
        await Expect(400, "unknown_field", Json(new { message = signed.Message, signature = signed.Signature, wallet = signed.Address }));
        await Expect(400, "invalid_type", Json(new { message = 5, signature = signed.Signature }));
        await Expect(400, "invalid_name", Json(new { message = signed.Message, signature = signed.Signature, name = "  " }));
        await Expect(400, "invalid_siwe_message", Json(new { message = "hello", signature = signed.Signature }));
        await Expect(400, "invalid_siwe_message", Json(new { message = signed.Message.Replace("\n", "\r\n"), signature = signed.Signature }));
        await Expect(400, "siwe_message_too_large", Json(new { message = signed.Message + new string('x', 5000), signature = signed.Signature }));
        await Expect(413, "payload_too_large", Json(new { message = new string('x', 100_000), signature = signed.Signature }));
        await Expect(400, "invalid_signature", Json(new { message = signed.Message, signature = "0x1234" }));
        await Expect(400, "invalid_signature", Json(new { message = signed.Message, signature = signed.Signature[..^2] + "1f" }));
        // A signature over another text recovers to someone else.
        await Expect(401, "siwe_signature_invalid", Json(new { message = signed.Message, signature = (await SiweSigner.SignFreshAsync(anonymous, SiweSigner.NewKey())).Signature }));

        using var ok = await SiweSigner.PostAsync(anonymous, "provider", signed);
        Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
    }

    [Fact]
    public async Task Fifty_concurrent_posts_of_one_signed_message_make_exactly_one_account()
    {
        using var anonymous = _gateway.Client();
        var signed = await SiweSigner.SignFreshAsync(anonymous, SiweSigner.NewKey());

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => SiweSigner.PostAsync(anonymous, "provider", signed)));

        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
        foreach (var refused in responses.Where(r => r.StatusCode != HttpStatusCode.Created))
        {
            await ProblemAssert.IsAsync(refused, 401, "siwe_nonce_used");
        }
        foreach (var r in responses)
        {
            r.Dispose();
        }
    }

    [Fact]
    public async Task Concurrent_first_sign_ins_of_one_wallet_with_their_own_nonces_make_one_organisation()
    {
        using var anonymous = _gateway.Client();
        var wallet = SiweSigner.NewKey();
        var now = DateTimeOffset.UtcNow;
        var specs = new List<SiweSpec>();
        for (var i = 0; i < 8; i++)
        {
            specs.Add(SiweSigner.For(await SiweSigner.NonceAsync(anonymous), wallet, now));
        }
        var signed = await SiweSigner.SignAsync([.. specs]);

        var responses = await Task.WhenAll(signed.Select(s => SiweSigner.PostAsync(anonymous, "provider", s)));

        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
        var organisations = new HashSet<string>();
        foreach (var r in responses)
        {
            if (r.StatusCode == HttpStatusCode.Conflict)
            {
                // The winner had bound the wallet but not yet written the organisation: retry later with a new nonce.
                await ProblemAssert.IsAsync(r, 409, "signup_in_progress");
                continue;
            }
            Assert.True(r.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, r.StatusCode.ToString());
            organisations.Add((await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("organisation").GetProperty("id").GetString()!);
            r.Dispose();
        }
        Assert.Single(organisations);
    }

    [Fact]
    public async Task With_open_sign_up_off_every_sign_up_route_is_403_signup_closed()
    {
        var settings = Settings();
        settings["X402:Signup:Open"] = "false";
        await using var gateway = await GatewayHost.StartAsync(settings);
        using var anonymous = gateway.Client();

        using (var nonce = await anonymous.PostAsync("/api/signup/nonce", null))
        {
            await ProblemAssert.IsAsync(nonce, 403, "signup_closed");
        }
        using (var provider = await anonymous.PostAsJsonAsync("/api/signup/provider", new { message = "m", signature = "0x" }))
        {
            await ProblemAssert.IsAsync(provider, 403, "signup_closed");
        }
        using (var payer = await anonymous.PostAsJsonAsync("/api/signup/payer", new { message = "m", signature = "0x" }))
        {
            await ProblemAssert.IsAsync(payer, 403, "signup_closed");
        }
        // Organisations still invite members.
        using var invited = await gateway.Admin.PostAsJsonAsync("/api/payers", new { name = "Invited" });
        Assert.Equal(HttpStatusCode.Created, invited.StatusCode);
    }

    [Fact]
    public async Task Sign_up_is_rate_limited_per_client_address_with_429_and_retry_after()
    {
        await using var gateway = await GatewayHost.StartAsync(Settings(requestsPerMinute: 3));
        using var anonymous = gateway.Client();
        for (var i = 0; i < 3; i++)
        {
            await SiweSigner.NonceAsync(anonymous);
        }

        using var limited = await anonymous.PostAsync("/api/signup/nonce", null);
        await ProblemAssert.IsAsync(limited, 429, "rate_limited");
        Assert.True(limited.Headers.RetryAfter?.Delta is { } wait && wait > TimeSpan.Zero && wait <= TimeSpan.FromMinutes(1), limited.Headers.RetryAfter?.ToString());
        using var signup = await anonymous.PostAsJsonAsync("/api/signup/provider", new { message = "m", signature = "0x" });
        await ProblemAssert.IsAsync(signup, 429, "rate_limited");
        // The console's sign-up page verifies signatures too: it shares the allowance.
        using var page = await anonymous.GetAsync("/console/signup");
        Assert.Equal(HttpStatusCode.TooManyRequests, page.StatusCode);
        // Other routes are not limited by it.
        Assert.Equal(HttpStatusCode.OK, (await gateway.Admin.GetAsync("/api/organisation")).StatusCode);
    }

    [Fact]
    public async Task A_nonce_past_its_lifetime_is_refused_by_the_gateways_clock()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await GatewayHost.StartAsync(Settings(), b => b.Services.AddSingleton<TimeProvider>(clock));
        using var anonymous = gateway.Client();
        var nonce = await SiweSigner.NonceAsync(anonymous);
        Assert.Equal(clock.GetUtcNow().AddMinutes(10), nonce.GetProperty("expiresAt").GetDateTimeOffset());

        clock.Advance(TimeSpan.FromMinutes(10));
        var signed = (await SiweSigner.SignAsync(SiweSigner.For(nonce, SiweSigner.NewKey(), clock.GetUtcNow())))[0];

        using var refused = await SiweSigner.PostAsync(anonymous, "provider", signed);
        await ProblemAssert.IsAsync(refused, 401, "siwe_nonce_expired");
        using var again = await SiweSigner.PostAsync(anonymous, "provider", signed);
        await ProblemAssert.IsAsync(again, 401, "siwe_nonce_unknown");
    }

    [Fact]
    public async Task A_message_signed_for_one_kind_of_account_never_buys_the_other()
    {
        // A payer app has the wallet sign "as a payer"; posted for a provider's admin key it is refused, nonce kept.
        using var anonymous = _gateway.Client();
        var wallet = SiweSigner.NewKey();
        var forPayer = await SiweSigner.SignFreshAsync(anonymous, wallet, "payer");
        Assert.Contains("as a payer", forPayer.Message, StringComparison.Ordinal);

        using (var asProvider = await SiweSigner.PostAsync(anonymous, "provider", forPayer))
        {
            await ProblemAssert.IsAsync(asProvider, 401, "siwe_wrong_role");
        }
        var forProvider = await SiweSigner.SignFreshAsync(anonymous, wallet);
        using (var asPayer = await SiweSigner.PostAsync(anonymous, "payer", forProvider))
        {
            await ProblemAssert.IsAsync(asPayer, 401, "siwe_wrong_role");
        }
        // Each still works for the role it was signed for.
        using (var payer = await SiweSigner.PostAsync(anonymous, "payer", forPayer))
        {
            Assert.Equal(HttpStatusCode.Created, payer.StatusCode);
        }
        using (var provider = await SiweSigner.PostAsync(anonymous, "provider", forProvider))
        {
            Assert.Equal(HttpStatusCode.Created, provider.StatusCode);
        }
        using var badRole = await anonymous.PostAsync("/api/signup/nonce?role=admin", null);
        await ProblemAssert.IsAsync(badRole, 400, "invalid_role");
    }

    [Fact]
    public async Task Without_a_public_base_url_a_relayed_host_cannot_take_sign_ups()
    {
        // A relaying site sends its own Host, gets a nonce naming itself and has a visitor's wallet sign for it: without
        // PublicBaseUrl the gateway takes sign-ups on loopback only, so neither the nonce nor the post goes through.
        using var anonymous = _gateway.Client();
        using var nonce = new HttpRequestMessage(HttpMethod.Post, "/api/signup/nonce");
        nonce.Headers.Host = "evil.example";
        using var refusedNonce = await anonymous.SendAsync(nonce);
        await ProblemAssert.IsAsync(refusedNonce, 403, "signup_needs_public_url");

        var real = await SiweSigner.NonceAsync(anonymous);
        var signed = (await SiweSigner.SignAsync(SiweSigner.For(real, SiweSigner.NewKey(), DateTimeOffset.UtcNow) with
        {
            Domain = "evil.example", Uri = "http://evil.example/",
        }))[0];
        using var post = new HttpRequestMessage(HttpMethod.Post, "/api/signup/provider")
        {
            Content = JsonContent.Create(new { message = signed.Message, signature = signed.Signature }),
        };
        post.Headers.Host = "evil.example";
        using var refusedPost = await anonymous.SendAsync(post);
        await ProblemAssert.IsAsync(refusedPost, 403, "signup_needs_public_url");
    }
}
