using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Kyc;
using X402Serverless.Core.Ports;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.EndToEnd.PaidLinkClient;

namespace X402Serverless.Tests.EndToEnd;

/// <summary>An x402 payer on a link that asks for KYC counts as verified when a verification lists its wallet.</summary>
[Collection(ChainGroup.Name)]
public sealed class KycWalletTests(ChainFixture chain)
{
    [Fact]
    public async Task An_unverified_wallet_is_refused_before_anything_is_reserved_or_called_and_a_verified_one_pays()
    {
        var link = await chain.CreateLinkAsync(kycLevel: "basic");
        var requirement = await RequirementAsync(link.Url);
        var payment = new PaymentBuilder { Requirement = requirement, PayerKey = chain.PayerKey };

        using (var refused = await SendAsync(link.Url, payment.V2Header()))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal("kyc_required", await ProblemCodeAsync(refused));
        }
        Assert.Equal(0, chain.Upstream.Hits(link.UpstreamPath));
        Assert.Equal(0, await chain.BalanceAsync(link.PayTo));

        await chain.Gateway.Services.GetRequiredService<IKycStore>().SaveIfNewerAsync(new KycRecord
        {
            SubjectId = "pay_" + Guid.NewGuid().ToString("N"), Status = KycStatuses.Verified, Level = KycLevels.Full, Reference = "inq_wallet",
            Wallets = [chain.Payer.ToString().ToLowerInvariant()], DecidedAt = DateTimeOffset.UtcNow,
        }, default);

        // The refused authorization was never reserved, so the same signed header now pays.
        using var paid = await SendAsync(link.Url, payment.V2Header());
        Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
        Assert.Equal(1, chain.Upstream.Hits(link.UpstreamPath));
        Assert.Equal(10_000, await chain.BalanceAsync(link.PayTo));
    }

    [Fact]
    public async Task A_wallet_verified_by_a_trusted_gateway_pays_with_its_attestation_and_forged_stale_or_borrowed_ones_do_not()
    {
        var trustedKey = RandomNumberGenerator.GetBytes(32);
        var settings = chain.GatewaySettings(chain.FacilitatorUrl);
        settings["X402:Settlement:GasWalletKey"] = await chain.FundedWalletAsync();
        settings["X402:Kyc:TrustedAttestationSigners:0"] = Secp256k1.AddressOf(trustedKey).ToString();
        await using var gateway = await GatewayHost.StartAsync(settings);
        var link = await chain.CreateLinkAsync(gateway: gateway, kycLevel: "basic", facilitator: "builtin");
        var requirement = await RequirementAsync(link.Url);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        static string Header(KycAttestation a, byte[] key) => Convert.ToBase64String(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
        {
            message = new { wallet = a.Wallet.ToString(), level = a.Level, country = a.Country, issuedAt = a.IssuedAt, expiresAt = a.ExpiresAt },
            signature = a.Sign(key),
        })));

        async Task<HttpResponseMessage> PayAsync(string? attestation)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, link.Url);
            request.Headers.Add("PAYMENT-SIGNATURE", new PaymentBuilder { Requirement = requirement, PayerKey = chain.PayerKey }.V2Header());
            if (attestation is not null)
            {
                request.Headers.Add("KYC-ATTESTATION", attestation);
            }
            using var client = new HttpClient();
            return await client.SendAsync(request);
        }

        var good = new KycAttestation(chain.Payer, "full", "NL", now - 60, now + 3600);
        foreach (var refused in new[]
        {
            null,
            Header(good, RandomNumberGenerator.GetBytes(32)),                               // signed by nobody we trust
            Header(good with { IssuedAt = now - 7200, ExpiresAt = now - 60 }, trustedKey),   // expired
            Header(good with { Wallet = ChainFixture.NewAddress() }, trustedKey),           // someone else's wallet
            Header(good with { Level = "none" }, trustedKey),                               // below the link's level
            "not base64 at all",
        })
        {
            using var response = await PayAsync(refused);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Equal("kyc_required", await ProblemCodeAsync(response));
        }
        Assert.Equal(0, chain.Upstream.Hits(link.UpstreamPath));

        // A link for German payers only refuses the same (Dutch) attestation.
        var germanOnly = await chain.CreateLinkAsync(gateway: gateway, kycLevel: "basic", facilitator: "builtin");
        using (var admin = gateway.Client(GatewayHost.AdminKey))
        using (var patched = await admin.PatchAsJsonAsync($"/api/links/{germanOnly.Id}", new { kycCountries = new[] { "DE" } }))
        {
            Assert.True(patched.IsSuccessStatusCode);
        }
        using (var request = new HttpRequestMessage(HttpMethod.Get, germanOnly.Url))
        {
            request.Headers.Add("PAYMENT-SIGNATURE", new PaymentBuilder { Requirement = await RequirementAsync(germanOnly.Url), PayerKey = chain.PayerKey }.V2Header());
            request.Headers.Add("KYC-ATTESTATION", Header(good, trustedKey));
            using var client = new HttpClient();
            using var foreign = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Forbidden, foreign.StatusCode);
        }

        using var paid = await PayAsync(Header(good, trustedKey));
        Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
        var body = await paid.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(body.GetProperty("sawKycAttestation").GetBoolean());
        Assert.Equal(10_000, await chain.BalanceAsync(link.PayTo));
    }
}
