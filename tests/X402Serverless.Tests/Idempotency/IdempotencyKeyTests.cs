using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Ledger;
using X402Serverless.Sqlite;
using X402Serverless.Tests.Credits;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.Credits.CreditsFixture;

namespace X402Serverless.Tests.Idempotency;

/// <summary>
/// <c>Idempotency-Key</c> on calls paid from a balance: the same key and request again is the first answer, charged
/// once, under any concurrency; another request under the key is a conflict; an uncharged call frees the key; a retry
/// after a crash between capture and record gets the content without paying again, and after a crash before capture pays.
/// </summary>
public sealed class IdempotencyKeyTests(CreditsFixture fixture) : IClassFixture<CreditsFixture>
{
    private const string Replayed = "X-Payment-Identifier-Replayed";

    private static string NewKey() => "idem_" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task The_same_key_again_gets_the_first_answer_and_pays_once()
    {
        var (payer, link) = await FundedAsync(100_000);
        var key = NewKey();

        using var first = await KeyedCallAsync(link.Url + "/a?q=1", payer.Key, key);
        using var again = await KeyedCallAsync(link.Url + "/a?q=1", payer.Key, key);

        Assert.Equal(200, (int)first.StatusCode);
        Assert.Equal(200, (int)again.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await again.Content.ReadAsStringAsync());
        Assert.False(first.Headers.Contains(Replayed));
        Assert.Equal("true", again.Headers.GetValues(Replayed).Single());
        Assert.Equal(1, fixture.Upstream.Hits(link.Path + "/a"));
        Assert.Equal(90_000, await CreditsAsync(payer.Id));

        // Without a key every call is its own.
        using var unkeyed = await CallAsync(link.Url + "/a?q=1", payer.Key);
        Assert.Equal(200, (int)unkeyed.StatusCode);
        Assert.Equal(80_000, await CreditsAsync(payer.Id));
    }

    [Fact]
    public async Task Another_request_under_a_used_key_is_a_conflict_and_charges_nothing()
    {
        var (payer, link) = await FundedAsync(100_000);
        var key = NewKey();
        using var first = await KeyedCallAsync(link.Url + "/a", payer.Key, key);
        Assert.Equal(200, (int)first.StatusCode);

        using var otherPath = await KeyedCallAsync(link.Url + "/b", payer.Key, key);
        await ProblemAssert.IsAsync(otherPath, 409, "idempotency_key_conflict");
        using var otherBody = await KeyedCallAsync(link.Url + "/a", payer.Key, key, HttpMethod.Post, "{\"n\":2}");
        await ProblemAssert.IsAsync(otherBody, 409, "idempotency_key_conflict");
        Assert.Equal(0, fixture.Upstream.Hits(link.Path + "/b"));
        Assert.Equal(90_000, await CreditsAsync(payer.Id));
    }

    [Fact]
    public async Task A_post_body_is_part_of_the_request_the_key_names_and_still_reaches_the_upstream()
    {
        var (payer, link) = await FundedAsync(100_000);
        var key = NewKey();
        using var first = await KeyedCallAsync(link.Url + "/p", payer.Key, key, HttpMethod.Post, "{\"n\":1}");
        Assert.Equal(200, (int)first.StatusCode);
        Assert.Equal("{\"n\":1}", (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("body").GetString()); // /ok echoes what it got

        using var again = await KeyedCallAsync(link.Url + "/p", payer.Key, key, HttpMethod.Post, "{\"n\":1}");
        Assert.Equal("true", again.Headers.GetValues(Replayed).Single());
        Assert.Equal(1, fixture.Upstream.Hits(link.Path + "/p"));
        Assert.Equal(90_000, await CreditsAsync(payer.Id));
    }

    [Theory]
    [InlineData("short")]
    [InlineData("has spaces in it, which are not allowed")]
    [InlineData("slashes/and.dots/are/not/allowed")]
    public async Task A_malformed_key_is_a_problem_and_charges_nothing(string key)
    {
        var (payer, link) = await FundedAsync(100_000);
        using var response = await KeyedCallAsync(link.Url + "/a", payer.Key, key);
        await ProblemAssert.IsAsync(response, 400, "invalid_idempotency_key");
        Assert.Equal(0, fixture.Upstream.Hits(link.Path + "/a"));
        Assert.Equal(100_000, await CreditsAsync(payer.Id));
    }

    [Fact]
    public async Task One_key_is_one_payers_own_another_payer_using_it_pays_for_its_own_call()
    {
        using var org = await fixture.NewOrganisationAsync();
        var alice = await NewPayerAsync(org, new { name = "Alice" });
        var bob = await NewPayerAsync(org, new { name = "Bob" });
        var link = await fixture.NewLinkAsync(org, "0.01", ["credits"]);
        await fixture.FundAsync(Accounts.Credits(alice.Id), 100_000);
        await fixture.FundAsync(Accounts.Credits(bob.Id), 100_000);
        var key = NewKey();

        using var byAlice = await KeyedCallAsync(link.Url + "/a", alice.Key, key);
        using var byBob = await KeyedCallAsync(link.Url + "/a", bob.Key, key);

        Assert.Equal(200, (int)byBob.StatusCode);
        Assert.False(byBob.Headers.Contains(Replayed));
        Assert.Equal(2, fixture.Upstream.Hits(link.Path + "/a"));
        Assert.Equal(90_000, await CreditsAsync(alice.Id));
        Assert.Equal(90_000, await CreditsAsync(bob.Id));
    }

    [Fact]
    public async Task An_uncharged_call_frees_its_key_so_the_same_request_is_tried_again()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await NewPayerAsync(org, new { name = "Payer" });
        var failing = await fixture.NewLinkAsync(org, "0.01", ["credits"], kind: "fail");
        await fixture.FundAsync(Accounts.Credits(payer.Id), 100_000);
        var key = NewKey();

        using var first = await KeyedCallAsync(failing.Url, payer.Key, key);
        // The first answer can reach the client a moment before its key is freed: a retry in that moment is told
        // "in progress" (Retry-After: 1), as any client retrying would be, and the next one runs.
        var again = await Poll.UntilAsync(async () =>
        {
            var response = await KeyedCallAsync(failing.Url, payer.Key, key);
            if ((int)response.StatusCode == 409)
            {
                response.Dispose();
                return null;
            }
            return response;
        }, TimeSpan.FromSeconds(30));
        using var _ = again;

        Assert.Equal(500, (int)first.StatusCode);
        Assert.Equal(500, (int)again.StatusCode);
        Assert.False(again.Headers.Contains(Replayed));
        Assert.Equal(2, fixture.Upstream.Hits(failing.Path));
        Assert.Equal(100_000, await CreditsAsync(payer.Id));
    }

    [Fact]
    public async Task Two_hundred_parallel_sends_of_one_key_reach_the_upstream_once_and_pay_once()
    {
        var (payer, link) = await FundedAsync(100_000);
        var key = NewKey();

        using var start = new ManualResetEventSlim();
        var sends = Enumerable.Range(0, 200).Select(_ => Task.Run(async () =>
        {
            start.Wait();
            using var response = await KeyedCallAsync(link.Url + "/a", payer.Key, key);
            var body = await response.Content.ReadAsStringAsync();
            var code = (int)response.StatusCode == 409 ? JsonDocument.Parse(body).RootElement.GetProperty("code").GetString() : null;
            return ((int)response.StatusCode, body, code);
        })).ToList();
        start.Set();
        var answers = await Task.WhenAll(sends);

        Assert.Single(answers.Where(a => a.Item1 == 200).Select(a => a.body).Distinct());
        Assert.All(answers.Where(a => a.Item1 != 200), a => Assert.Equal((409, "payment_identifier_in_progress"), (a.Item1, a.code)));
        Assert.Equal(1, fixture.Upstream.Hits(link.Path + "/a"));
        Assert.Equal(90_000, await CreditsAsync(payer.Id));
        Assert.Equal(0, (await fixture.Ledger.TotalAsync(default)).Micros);
    }

    [Fact]
    public async Task A_retry_after_a_crash_gets_the_content_unpaid_when_the_first_call_was_charged_and_pays_when_it_was_not()
    {
        var (payer, link) = await FundedAsync(100_000);
        var key = NewKey();
        using var first = await KeyedCallAsync(link.Url + "/a", payer.Key, key);
        Assert.Equal(200, (int)first.StatusCode);
        var database = fixture.Gateway.Services.GetRequiredService<SqliteDatabase>();

        // What a process that died after capturing, before recording the answer, leaves once its claim has run out.
        await ClaimRows.LeaveAsync(database, key);
        using var recovered = await KeyedCallAsync(link.Url + "/a", payer.Key, key);
        Assert.Equal(200, (int)recovered.StatusCode);
        Assert.False(recovered.Headers.Contains(Replayed));
        Assert.Equal(2, fixture.Upstream.Hits(link.Path + "/a"));
        Assert.Equal(90_000, await CreditsAsync(payer.Id));
        using var recorded = await KeyedCallAsync(link.Url + "/a", payer.Key, key);
        Assert.Equal("true", recorded.Headers.GetValues(Replayed).Single());

        // A process that died before capturing: its hold was never captured (the stale-hold sweep gives it back), so the retry pays.
        await ClaimRows.LeaveAsync(database, key, paymentId: "hold_never_captured_" + Guid.NewGuid().ToString("N"));
        using var paid = await KeyedCallAsync(link.Url + "/a", payer.Key, key);
        Assert.Equal(200, (int)paid.StatusCode);
        Assert.Equal(3, fixture.Upstream.Hits(link.Path + "/a"));
        Assert.Equal(80_000, await CreditsAsync(payer.Id));
    }

    private async Task<((string Id, string Key, string OrganisationId) Payer, (string Id, string Url, string Path) Link)> FundedAsync(long micros)
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await NewPayerAsync(org, new { name = "Keyed payer" });
        var link = await fixture.NewLinkAsync(org, "0.01", ["credits"]);
        await fixture.FundAsync(Accounts.Credits(payer.Id), micros);
        return (payer, link);
    }

    private async Task<long> CreditsAsync(string payerId) => (await fixture.Ledger.BalanceAsync(Accounts.Credits(payerId), default)).Micros;

    private static async Task<HttpResponseMessage> KeyedCallAsync(string url, string payerKey, string key, HttpMethod? method = null, string? body = null)
    {
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(method ?? HttpMethod.Get, url);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", payerKey);
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        if (body is not null)
        {
            request.Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        }
        return await client.SendAsync(request);
    }
}
