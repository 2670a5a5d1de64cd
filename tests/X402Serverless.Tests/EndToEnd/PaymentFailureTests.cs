using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using X402Serverless.Core.Links;
using X402Serverless.Core.Ports;
using X402Serverless.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using static X402Serverless.Tests.EndToEnd.PaidLinkClient;
using X402Serverless.Core.Money;

namespace X402Serverless.Tests.EndToEnd;

/// <summary>
/// Every way a payment can be wrong or a call can fail: the payer is refused or not charged, and the upstream
/// is reached only when a valid payment will be settled.
/// </summary>
[Collection(ChainGroup.Name)]
public sealed class PaymentFailureTests(ChainFixture chain)
{
    private PaymentBuilder Builder(System.Text.Json.Nodes.JsonObject requirement) =>
        new() { Requirement = requirement, PayerKey = chain.PayerKey };

    [Fact]
    public async Task Undecodable_header_is_refused_with_402_and_the_upstream_is_not_called()
    {
        var link = await chain.CreateLinkAsync();
        using var response = await SendAsync(link.Url, "%%% not base64 %%%");
        Assert.Equal("invalid_payment_header", await ErrorOfAsync(response));
        Assert.Equal(0, chain.Upstream.Hits(link.UpstreamPath));
    }

    [Fact]
    public async Task Base64_of_json_with_the_wrong_shape_is_refused()
    {
        var link = await chain.CreateLinkAsync();
        var header = Convert.ToBase64String(Encoding.UTF8.GetBytes("""{"x402Version":2,"accepted":{"scheme":"exact","network":"eip155:84532"},"payload":{"signature":"0x12"}}"""));
        using var response = await SendAsync(link.Url, header);
        Assert.Equal("invalid_payload", await ErrorOfAsync(response));
        Assert.Equal(0, chain.Upstream.Hits(link.UpstreamPath));
    }

    [Fact]
    public async Task Authorization_for_the_wrong_amount_is_refused()
    {
        var link = await chain.CreateLinkAsync(price: "0.01");
        var requirement = await RequirementAsync(link.Url);
        // The echoed requirement is intact; only the signed value is short by one atomic unit.
        using var response = await SendAsync(link.Url, (Builder(requirement) with { Value = new BigInteger(9_999) }).V2Header());
        Assert.Equal("invalid_exact_evm_authorization_value", await ErrorOfAsync(response));
        await AssertNothingHappenedAsync(link);
    }

    [Fact]
    public async Task Authorization_paying_someone_else_is_refused()
    {
        var link = await chain.CreateLinkAsync();
        var requirement = await RequirementAsync(link.Url);
        using var response = await SendAsync(link.Url, (Builder(requirement) with { To = ChainFixture.NewAddress().ToString() }).V2Header());
        Assert.Equal("invalid_exact_evm_recipient_mismatch", await ErrorOfAsync(response));
        await AssertNothingHappenedAsync(link);
    }

    [Fact]
    public async Task Expired_authorization_is_refused()
    {
        var link = await chain.CreateLinkAsync();
        var requirement = await RequirementAsync(link.Url);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        // Still three seconds to go, but inside the six-second settlement buffer.
        using var response = await SendAsync(link.Url, (Builder(requirement) with { ValidAfter = now - 600, ValidBefore = now + 3 }).V2Header());
        Assert.Equal("invalid_exact_evm_payload_authorization_valid_before", await ErrorOfAsync(response));
        await AssertNothingHappenedAsync(link);
    }

    [Fact]
    public async Task Not_yet_valid_authorization_is_refused()
    {
        var link = await chain.CreateLinkAsync();
        var requirement = await RequirementAsync(link.Url);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        using var response = await SendAsync(link.Url, (Builder(requirement) with { ValidAfter = now + 120, ValidBefore = now + 300 }).V2Header());
        Assert.Equal("invalid_exact_evm_payload_authorization_valid_after", await ErrorOfAsync(response));
        await AssertNothingHappenedAsync(link);
    }

    [Fact]
    public async Task Signature_by_another_key_is_refused()
    {
        var link = await chain.CreateLinkAsync();
        var requirement = await RequirementAsync(link.Url);
        using var response = await SendAsync(link.Url, (Builder(requirement) with { SigningKey = RandomNumberGenerator.GetBytes(32) }).V2Header());
        Assert.Equal("invalid_exact_evm_signature", await ErrorOfAsync(response));
        await AssertNothingHappenedAsync(link);
    }

    [Fact]
    public async Task Payment_on_a_network_the_link_does_not_take_is_refused()
    {
        var link = await chain.CreateLinkAsync();
        var requirement = await RequirementAsync(link.Url);
        using var v2 = await SendAsync(link.Url, (Builder(requirement) with { Network = "eip155:999999" }).V2Header());
        Assert.Equal("invalid_network", await ErrorOfAsync(v2));
        using var v1 = await SendAsync(link.Url, Builder(requirement).V1Header("solana-devnet"), version: 1);
        Assert.Equal("invalid_network", await ErrorOfAsync(v1));
        await AssertNothingHappenedAsync(link);
    }

    [Fact]
    public async Task Replay_of_a_settled_payment_is_refused_and_charges_once()
    {
        var link = await chain.CreateLinkAsync(price: "0.01");
        var payerBefore = await chain.BalanceAsync(chain.Payer);
        var header = Builder(await RequirementAsync(link.Url)).V2Header();

        using var first = await SendAsync(link.Url, header);
        Assert.Equal(200, (int)first.StatusCode);
        Assert.True(SettlementOf(first).GetProperty("success").GetBoolean());

        using var replay = await SendAsync(link.Url, header);
        Assert.Equal("invalid_exact_evm_nonce_already_used", await ErrorOfAsync(replay));

        Assert.Equal(1, chain.Upstream.Hits(link.UpstreamPath));
        Assert.Equal(payerBefore - 10_000, await chain.BalanceAsync(chain.Payer));
        Assert.Equal(10_000, await chain.BalanceAsync(link.PayTo));
    }

    [Fact]
    public async Task Upstream_500_is_passed_back_unsettled_and_the_payer_keeps_the_funds()
    {
        var link = await chain.CreateLinkAsync(kind: "fail");
        var payerBefore = await chain.BalanceAsync(chain.Payer);
        var payment = Builder(await RequirementAsync(link.Url));

        using var response = await SendAsync(link.Url, payment.V2Header());

        Assert.Equal(500, (int)response.StatusCode);
        Assert.Equal("upstream exploded", await response.Content.ReadAsStringAsync());
        Assert.False(response.Headers.Contains("PAYMENT-RESPONSE"));
        Assert.Equal(1, chain.Upstream.Hits(link.UpstreamPath));
        Assert.Equal(payerBefore, await chain.BalanceAsync(chain.Payer));
        Assert.Equal(0, await chain.BalanceAsync(link.PayTo));
        // The nonce was released: the same authorization is not marked used.
        var id = X402Serverless.Core.Payments.PaymentId.For(84532, chain.Token, chain.Payer, payment.Nonce);
        Assert.Null(await chain.Gateway.Services.GetRequiredService<IPaymentStore>().GetAsync(id, default));
    }

    [Fact]
    public async Task Upstream_timeout_answers_504_and_is_not_settled()
    {
        var link = await chain.CreateLinkAsync(kind: "slow");
        var payerBefore = await chain.BalanceAsync(chain.Payer);

        using var response = await SendAsync(link.Url, Builder(await RequirementAsync(link.Url)).V2Header());

        Assert.Equal(504, (int)response.StatusCode);
        Assert.Equal("upstream_timeout", await ProblemCodeAsync(response));
        Assert.Equal(payerBefore, await chain.BalanceAsync(chain.Payer));
        Assert.Equal(0, await chain.BalanceAsync(link.PayTo));
        // Counted as not charged, and as a timeout among the errors.
        var totals = (await OfficialClientTests.UsageAsync(chain, $"/api/usage/daily?days=1&link={link.Id}", r => r.GetProperty("totals").GetProperty("timeouts").GetInt64() >= 1)).GetProperty("totals");
        Assert.Equal((1L, 1L, 1L, 0L), (totals.GetProperty("notCharged").GetInt64(), totals.GetProperty("errors").GetInt64(), totals.GetProperty("timeouts").GetInt64(), totals.GetProperty("paid").GetInt64()));
    }

    [Fact]
    public async Task Unreachable_upstream_answers_502_and_is_not_settled()
    {
        var payTo = ChainFixture.NewAddress();
        var (_, url) = await chain.Gateway.CreateLinkAsync(new { upstream = $"http://127.0.0.1:{PeerProcess.FreePort()}/gone", price = "0.01", payTo = payTo.ToString() });
        var payerBefore = await chain.BalanceAsync(chain.Payer);

        using var response = await SendAsync(url, Builder(await RequirementAsync(url)).V2Header());

        Assert.Equal(502, (int)response.StatusCode);
        Assert.Equal("upstream_unreachable", await ProblemCodeAsync(response));
        Assert.Equal(payerBefore, await chain.BalanceAsync(chain.Payer));
        Assert.Equal(0, await chain.BalanceAsync(payTo));
    }

    [Fact]
    public async Task Upstream_redirects_are_passed_back_not_followed()
    {
        var link = await chain.CreateLinkAsync(kind: "redirect");
        using var handler = new HttpClientHandler { AllowAutoRedirect = false };
        using var http = new HttpClient(handler);
        using var request = new HttpRequestMessage(HttpMethod.Get, link.Url);
        request.Headers.TryAddWithoutValidation("PAYMENT-SIGNATURE", Builder(await RequirementAsync(link.Url)).V2Header());

        using var response = await http.SendAsync(request);

        Assert.Equal(302, (int)response.StatusCode);
        Assert.Equal("http://127.0.0.1:1/elsewhere", response.Headers.Location?.OriginalString);
        Assert.Equal(1, chain.Upstream.Hits(link.UpstreamPath));
    }

    [Fact]
    public async Task Facilitator_down_means_no_upstream_call_no_content_and_no_charge()
    {
        var deadFacilitator = $"http://127.0.0.1:{PeerProcess.FreePort()}";
        await using var gateway = await GatewayHost.StartAsync(chain.GatewaySettings(deadFacilitator));
        var link = await chain.CreateLinkAsync(gateway: gateway);
        var payerBefore = await chain.BalanceAsync(chain.Payer);

        using var response = await SendAsync(link.Url, Builder(await RequirementAsync(link.Url)).V2Header());

        Assert.Equal(503, (int)response.StatusCode);
        Assert.Equal("facilitator_unavailable", await ProblemCodeAsync(response));
        Assert.Equal(0, chain.Upstream.Hits(link.UpstreamPath));
        Assert.Equal(payerBefore, await chain.BalanceAsync(chain.Payer));
    }

    [Fact]
    public async Task Private_address_upstreams_are_refused_at_creation_and_at_request_time()
    {
        var settings = chain.GatewaySettings(chain.FacilitatorUrl);
        settings["X402:AllowedUpstreamRanges:0"] = "";
        await using var strict = await GatewayHost.StartAsync(settings);

        foreach (var target in new[] { "http://127.0.0.1:8080/x", "http://10.1.2.3/x", "http://169.254.169.254/latest/meta-data", "http://[::1]/x", "http://192.168.1.1/" })
        {
            using var created = await strict.Admin.PostAsync("/api/links", System.Net.Http.Json.JsonContent.Create(new
            {
                upstream = target, price = "0.01", payTo = ChainFixture.NewAddress().ToString(),
            }));
            Assert.Equal(400, (int)created.StatusCode);
            Assert.Equal("upstream_address_refused", await ProblemCodeAsync(created));
            // The problem says how an operator who means it allows the address.
            Assert.Contains("X402__AllowedUpstreamRanges__0", await created.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // A link whose host turned private after creation (DNS rebinding, a policy change) is refused when called.
        var path = $"/ok/{Guid.NewGuid():N}";
        var payTo = ChainFixture.NewAddress();
        var now = DateTimeOffset.UtcNow;
        var organisation = (await strict.Services.GetRequiredService<IAccessStore>().FindByKeyHashAsync(
            X402Serverless.Core.Access.ManagementKeys.Hash(GatewayHost.AdminKey), default))!.Value.Organisation;
        await strict.Services.GetRequiredService<ILinkStore>().CreateAsync(new PaidLink
        {
            Id = "lnk_rebound", OrganisationId = organisation.Id, Upstream = chain.Upstream.BaseUrl + path, Price = Usd.Parse("0.01"),
            PayTo = payTo.ToString(), Networks = [ChainFixture.V2Network], Methods = [], CreatedAt = now, UpdatedAt = now,
        }, default);
        var url = strict.BaseUrl + "/l/lnk_rebound";
        var payerBefore = await chain.BalanceAsync(chain.Payer);

        using var response = await SendAsync(url, Builder(await RequirementAsync(url)).V2Header());

        Assert.Equal(502, (int)response.StatusCode);
        Assert.Equal("upstream_address_refused", await ProblemCodeAsync(response));
        Assert.Contains("X402__AllowedUpstreamRanges__0", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, chain.Upstream.Hits(path));
        Assert.Equal(payerBefore, await chain.BalanceAsync(chain.Payer));
    }

    private async Task AssertNothingHappenedAsync(PaidTestLink link)
    {
        Assert.Equal(0, chain.Upstream.Hits(link.UpstreamPath));
        Assert.Equal(0, await chain.BalanceAsync(link.PayTo));
    }
}
