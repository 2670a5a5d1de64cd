using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Sqlite;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.EndToEnd.PaidLinkClient;

namespace X402Serverless.Tests.Idempotency;

/// <summary>
/// x402's payment-identifier on paid links, on the local chain: the same payment and id again gets the recorded answer
/// and pays once; another payment under the id is a conflict; concurrent and crashed first calls are charged once.
/// </summary>
[Collection(ChainGroup.Name)]
public sealed class PaymentIdentifierTests(ChainFixture chain)
{
    private const string Replayed = "X-Payment-Identifier-Replayed";
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(120) };

    private static string NewId() => "pay_" + Guid.NewGuid().ToString("N");

    private async Task<(PaidTestLink Link, JsonObject Requirement)> LinkAsync(string kind = "ok")
    {
        var link = await chain.CreateLinkAsync(kind, price: "0.01");
        return (link, await RequirementAsync(link.Url));
    }

    private PaymentBuilder Payment(JsonObject requirement, string? id) =>
        new() { Requirement = requirement, PayerKey = chain.PayerKey, Extensions = id is null ? null : PaymentBuilder.IdentifiedBy(id) };

    [Fact]
    public async Task The_402_declares_the_extension_optional_by_default_and_required_when_the_link_says_so()
    {
        var link = await chain.CreateLinkAsync(price: "0.01");
        Assert.False(Declaration(await Http.GetAsync(link.Url))["info"]!["required"]!.GetValue<bool>());

        using var patched = await chain.Gateway.Admin.PatchAsJsonAsync($"/api/links/{link.Id}", new { paymentIdentifierRequired = true });
        Assert.True(patched.IsSuccessStatusCode);
        Assert.True((await patched.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("paymentIdentifierRequired").GetBoolean());
        await Poll.UntilAsync(async () => Declaration(await Http.GetAsync(link.Url))["info"]!["required"]!.GetValue<bool>(), TimeSpan.FromSeconds(40));
        var declared = Declaration(await Http.GetAsync(link.Url));
        Assert.Equal(16, declared["schema"]!["properties"]!["id"]!["minLength"]!.GetValue<int>());
        Assert.Equal(128, declared["schema"]!["properties"]!["id"]!["maxLength"]!.GetValue<int>());

        // Required: a payment without an id is refused before anything is reserved or forwarded.
        var requirement = await RequirementAsync(link.Url);
        using var missing = await SendAsync(link.Url, Payment(requirement, null).V2Header());
        await ProblemAssert.IsAsync(missing, 400, "payment_identifier_required");
        using var paid = await SendAsync(link.Url, Payment(requirement, NewId()).V2Header());
        Assert.Equal(200, (int)paid.StatusCode);
        Assert.Equal(1, chain.Upstream.Hits(link.UpstreamPath));
    }

    [Fact]
    public async Task The_same_payment_and_identifier_again_gets_the_recorded_answer_and_pays_once()
    {
        var (link, requirement) = await LinkAsync();
        var payment = Payment(requirement, NewId());
        var header = payment.V2Header();

        using var first = await SendAsync(link.Url + "/items?x=1", header);
        using var again = await SendAsync(link.Url + "/items?x=1", header);

        Assert.Equal(200, (int)first.StatusCode);
        Assert.Equal(200, (int)again.StatusCode);
        Assert.False(first.Headers.Contains(Replayed));
        Assert.Equal("true", again.Headers.GetValues(Replayed).Single());
        Assert.Equal(await first.Content.ReadAsStringAsync(), await again.Content.ReadAsStringAsync());
        Assert.Equal(first.Content.Headers.ContentType, again.Content.Headers.ContentType);
        Assert.Equal(SettlementOf(first).GetProperty("transaction").GetString(), SettlementOf(again).GetProperty("transaction").GetString());
        Assert.Equal(first.Headers.GetValues("X-Payment-Id").Single(), again.Headers.GetValues("X-Payment-Id").Single());
        Assert.Contains("sandbox", again.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal(1, chain.Upstream.Hits(link.UpstreamPath + "/items"));
        Assert.Equal(1, await chain.Rpc.TransferLogCountAsync(chain.Token, link.PayTo));

        // The same authorization without its id is another payload: the replay guard refuses it as before.
        using var bare = await SendAsync(link.Url + "/items?x=1", (payment with { Extensions = null }).V2Header());
        Assert.Equal("invalid_exact_evm_nonce_already_used", await ErrorOfAsync(bare));
        // The same payment and id on another path of the link is another request: a conflict, not this answer.
        using var elsewhere = await SendAsync(link.Url + "/other", header);
        await ProblemAssert.IsAsync(elsewhere, 409, "payment_identifier_conflict");
        Assert.Equal(1, await chain.Rpc.TransferLogCountAsync(chain.Token, link.PayTo));
    }

    [Fact]
    public async Task A_new_payment_under_a_used_identifier_is_a_conflict_and_charges_nothing()
    {
        var (link, requirement) = await LinkAsync();
        var id = NewId();
        using var first = await SendAsync(link.Url, Payment(requirement, id).V2Header());
        Assert.Equal(200, (int)first.StatusCode);

        using var second = await SendAsync(link.Url, Payment(requirement, id).V2Header());

        await ProblemAssert.IsAsync(second, 409, "payment_identifier_conflict");
        Assert.Equal(1, chain.Upstream.Hits(link.UpstreamPath));
        Assert.Equal(10_000, await chain.BalanceAsync(link.PayTo));
    }

    [Fact]
    public async Task Knowing_an_identifier_without_the_payers_signature_gets_no_answer()
    {
        var (link, requirement) = await LinkAsync();
        var id = NewId();
        using var first = await SendAsync(link.Url, Payment(requirement, id).V2Header());
        Assert.Equal(200, (int)first.StatusCode);

        // The victim's wallet and id, signed by someone else: the ordinary refusal, no content and no hint about the id.
        var forged = new PaymentBuilder
        {
            Requirement = requirement, PayerKey = chain.PayerKey, SigningKey = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32),
            Extensions = PaymentBuilder.IdentifiedBy(id),
        };
        using var stolen = await SendAsync(link.Url, forged.V2Header());

        Assert.Equal(402, (int)stolen.StatusCode);
        Assert.Equal("invalid_exact_evm_signature", await ErrorOfAsync(stolen));
        Assert.False(stolen.Headers.Contains(Replayed));
        Assert.Equal(1, chain.Upstream.Hits(link.UpstreamPath));
    }

    [Fact]
    public async Task A_malformed_identifier_is_a_problem_and_charges_nothing()
    {
        var (link, requirement) = await LinkAsync();
        foreach (var bad in new[] { "short", new string('a', 129), "pay_with spaces_0123456789", "pay_ünïcödé_0123456789" })
        {
            using var response = await SendAsync(link.Url, Payment(requirement, bad).V2Header());
            await ProblemAssert.IsAsync(response, 400, "invalid_payment_identifier", bad);
        }
        var notAString = Payment(requirement, null) with { Extensions = new JsonObject { ["payment-identifier"] = new JsonObject { ["info"] = new JsonObject { ["id"] = 12345678901234567 } } } };
        using var number = await SendAsync(link.Url, notAString.V2Header());
        await ProblemAssert.IsAsync(number, 400, "invalid_payment_identifier");
        Assert.Equal(0, chain.Upstream.Hits(link.UpstreamPath));
        Assert.Equal(0, await chain.Rpc.TransferLogCountAsync(chain.Token, link.PayTo));
    }

    [Fact]
    public async Task An_uncharged_call_frees_its_identifier_so_the_same_payment_is_tried_again()
    {
        var (link, requirement) = await LinkAsync("fail");
        var header = Payment(requirement, NewId()).V2Header();

        using var first = await SendAsync(link.Url, header);
        using var retry = await SendAsync(link.Url, header);

        Assert.Equal(500, (int)first.StatusCode);
        Assert.Equal(500, (int)retry.StatusCode);
        Assert.False(retry.Headers.Contains(Replayed));
        Assert.Equal(2, chain.Upstream.Hits(link.UpstreamPath));
        Assert.Equal(0, await chain.Rpc.TransferLogCountAsync(chain.Token, link.PayTo));
    }

    [Fact]
    public async Task An_answer_too_large_to_keep_is_given_again_as_its_settlement_only()
    {
        var (link, requirement) = await LinkAsync();
        var header = Payment(requirement, NewId()).V2Header();
        var large = new string('x', 70 * 1024);

        using var first = await PostAsync(link.Url, header, large);
        using var again = await PostAsync(link.Url, header, large);

        Assert.Equal(200, (int)first.StatusCode);
        Assert.Contains(large, await first.Content.ReadAsStringAsync());
        await ProblemAssert.IsAsync(again, 410, "payment_identifier_answer_not_kept");
        Assert.Equal(SettlementOf(first).GetProperty("transaction").GetString(), SettlementOf(again).GetProperty("transaction").GetString());
        Assert.Equal(1, chain.Upstream.Hits(link.UpstreamPath));
        Assert.Equal(1, await chain.Rpc.TransferLogCountAsync(chain.Token, link.PayTo));
    }

    [Fact]
    public async Task A_thousand_parallel_presentations_of_one_payment_and_identifier_are_forwarded_and_charged_once()
    {
        const int Presentations = 1000;
        var (link, requirement) = await LinkAsync();
        var payerBefore = await chain.BalanceAsync(chain.Payer);
        var header = Payment(requirement, NewId()).V2Header();

        using var start = new ManualResetEventSlim();
        var sends = Enumerable.Range(0, Presentations).Select(_ => Task.Run(async () =>
        {
            start.Wait();
            using var response = await SendAsync(link.Url, header);
            var body = await response.Content.ReadAsStringAsync();
            var code = (int)response.StatusCode == 409 ? JsonDocument.Parse(body).RootElement.GetProperty("code").GetString() : null;
            return ((int)response.StatusCode, body, code);
        })).ToList();
        start.Set();
        var answers = await Task.WhenAll(sends);

        var contents = answers.Where(a => a.Item1 == 200).Select(a => a.body).Distinct().ToList();
        Assert.Single(contents);
        Assert.All(answers.Where(a => a.Item1 != 200), a => Assert.Equal((409, "payment_identifier_in_progress"), (a.Item1, a.code)));
        Assert.Equal(1, chain.Upstream.Hits(link.UpstreamPath));
        Assert.Equal(1, await chain.Rpc.TransferLogCountAsync(chain.Token, link.PayTo));
        Assert.Equal(payerBefore - 10_000, await chain.BalanceAsync(chain.Payer));

        // Once the first call is recorded every presentation gets its content.
        using var late = await SendAsync(link.Url, header);
        Assert.Equal(contents[0], await late.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_retry_after_a_crash_between_the_answer_and_its_record_gets_the_content_without_paying_again()
    {
        var (link, requirement) = await LinkAsync();
        var id = NewId();
        var header = Payment(requirement, id).V2Header();
        using var first = await SendAsync(link.Url, header);
        Assert.Equal(200, (int)first.StatusCode);
        var content = await first.Content.ReadAsStringAsync();

        // What a process that died after settling, before recording the answer, leaves behind: the claim in flight.
        var database = chain.Gateway.Services.GetRequiredService<SqliteDatabase>();
        await ForgetAnswerAsync(database, id, DateTimeOffset.UtcNow.AddMinutes(5));
        using var early = await SendAsync(link.Url, header);
        await ProblemAssert.IsAsync(early, 409, "payment_identifier_in_progress");
        Assert.Equal("1", early.Headers.RetryAfter?.ToString());

        // The claim has run out but the payment is still settling (recovery has not run yet): in progress, nothing run.
        var paymentId = first.Headers.GetValues("X-Payment-Id").Single();
        await SetPaymentStatusAsync(database, paymentId, "Settling");
        await ForgetAnswerAsync(database, id, DateTimeOffset.UtcNow.AddMinutes(-1));
        using var settling = await SendAsync(link.Url, header);
        await ProblemAssert.IsAsync(settling, 409, "payment_identifier_in_progress");
        Assert.Equal(1, chain.Upstream.Hits(link.UpstreamPath));
        await SetPaymentStatusAsync(database, paymentId, "Settled");

        // The claim has run out again: the next retry takes it over, sees the payment settled, and delivers without charging.
        await ForgetAnswerAsync(database, id, DateTimeOffset.UtcNow.AddMinutes(-1));
        using var retry = await SendAsync(link.Url, header);
        Assert.Equal(200, (int)retry.StatusCode);
        Assert.Equal(content, await retry.Content.ReadAsStringAsync());
        Assert.Equal(SettlementOf(first).GetProperty("transaction").GetString(), SettlementOf(retry).GetProperty("transaction").GetString());
        Assert.Equal(2, chain.Upstream.Hits(link.UpstreamPath));
        Assert.Equal(1, await chain.Rpc.TransferLogCountAsync(chain.Token, link.PayTo));

        // Now recorded: the next one is the recorded answer.
        using var recorded = await SendAsync(link.Url, header);
        Assert.Equal("true", recorded.Headers.GetValues(Replayed).Single());
        Assert.Equal(2, chain.Upstream.Hits(link.UpstreamPath));
    }

    [Fact]
    public async Task A_deferred_call_whose_payment_then_failed_is_not_given_again()
    {
        var link = await chain.CreateLinkAsync(settlement: "deferred", facilitator: "builtin", deferredPayers: "any");
        var payerKey = await NonceBurner.FundedPayerAsync(chain, 1_000_000);
        var payment = new PaymentBuilder { Requirement = await RequirementAsync(link.Url), PayerKey = payerKey, Extensions = PaymentBuilder.IdentifiedBy(NewId()) };
        await NonceBurner.BurnAsync(chain, payerKey, payment.Nonce);
        using var served = await SendAsync(link.Url, payment.V2Header());
        Assert.Equal("deferred", served.Headers.GetValues("X-Payment-Settlement").Single());
        var job = await EndToEnd.PaymentsApiClient.WaitForEndAsync(chain.Gateway, served.Headers.GetValues("X-Payment-Id").Single(), TimeSpan.FromSeconds(30));
        Assert.Equal("failed", job.GetProperty("status").GetString());

        using var again = await SendAsync(link.Url, payment.V2Header());

        Assert.Equal("authorization_consumed_elsewhere", await ErrorOfAsync(again));
        Assert.Equal(1, chain.Upstream.Hits(link.UpstreamPath));
    }

    [Fact]
    public async Task The_official_client_retries_one_payment_without_paying_twice_and_a_new_payment_under_the_id_conflicts()
    {
        var link = await chain.CreateLinkAsync(price: "0.01");
        var output = await PeerProcess.RunNodeAsync(new Dictionary<string, string>
        {
            ["PAYER_KEY"] = chain.PayerKeyHex,
            ["TOKEN"] = chain.Token.ToString(),
            ["NETWORK"] = ChainFixture.V2Network,
            ["ID"] = NewId(),
        }, "pay-identified.mjs", link.Url);
        var result = JsonDocument.Parse(output.Trim().Split('\n').Last()).RootElement;

        Assert.False(result.GetProperty("required").GetBoolean());
        var first = result.GetProperty("first");
        var repeat = result.GetProperty("repeat");
        Assert.Equal(200, first.GetProperty("status").GetInt32());
        Assert.Equal(200, repeat.GetProperty("status").GetInt32());
        Assert.Equal(first.GetProperty("body").GetString(), repeat.GetProperty("body").GetString());
        Assert.Equal(first.GetProperty("paymentResponse").GetProperty("transaction").GetString(),
            repeat.GetProperty("paymentResponse").GetProperty("transaction").GetString());
        var fresh = result.GetProperty("fresh");
        Assert.Equal(409, fresh.GetProperty("status").GetInt32());
        Assert.Equal("payment_identifier_conflict", JsonDocument.Parse(fresh.GetProperty("body").GetString()!).RootElement.GetProperty("code").GetString());
        Assert.Equal(1, chain.Upstream.Hits(link.UpstreamPath));
        Assert.Equal(1, await chain.Rpc.TransferLogCountAsync(chain.Token, link.PayTo));
    }

    private static JsonNode Declaration(HttpResponseMessage response)
    {
        using (response)
        {
            var required = JsonNode.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(response.Headers.GetValues("PAYMENT-REQUIRED").Single())))!;
            return required["extensions"]!["payment-identifier"]!;
        }
    }

    private static async Task<HttpResponseMessage> PostAsync(string url, string header, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body) };
        request.Headers.TryAddWithoutValidation("PAYMENT-SIGNATURE", header);
        return await Http.SendAsync(request);
    }

    private static async Task SetPaymentStatusAsync(SqliteDatabase database, string paymentId, string status)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE payments SET status = $status WHERE id = $id;";
        command.Parameters.AddWithValue("$id", paymentId);
        command.Parameters.AddWithValue("$status", status);
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }

    private static async Task ForgetAnswerAsync(SqliteDatabase database, string id, DateTimeOffset expiresAt)
    {
        await using var connection = database.Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE payment_identifiers SET completed = 0, status = NULL, headers = NULL, body = NULL, expires_at = $expires WHERE id = $id;";
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$expires", expiresAt.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }
}
