using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Ports;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Passes;

/// <summary>
/// A pass bought with x402 whose request stops after the payment settled and before the pass is stored (the pass
/// store failing here; a crash leaves the same state): the money moved, so the same payment sent again issues the
/// pass, once, and is never taken for a used authorization, nor redeemed for a call of the link.
/// </summary>
[Collection(ChainGroup.Name)]
public sealed class PassIssueFailureTests(ChainFixture chain)
{
    [Fact]
    public async Task A_pass_paid_but_not_stored_is_issued_once_when_the_same_payment_is_sent_again()
    {
        var failAdd = 1;
        await using var gateway = await GatewayHost.StartAsync(chain.GatewaySettings(chain.FacilitatorUrl), b =>
            b.Host.UseServiceProviderFactory(new LateRegistrations(services => LateRegistrations.Decorate<IPassStore>(services,
                (_, store) => new HookedPassStore(store)
                {
                    BeforeAdd = _ => Interlocked.Exchange(ref failAdd, 0) == 1 ? throw new IOException("The pass store is down.") : Task.CompletedTask,
                }))));
        var payTo = ChainFixture.NewAddress();
        var path = $"/ok/{Guid.NewGuid():N}";
        // A call costs what the pass costs: the one payment header is accepted by either (same amount, same payee).
        var (linkId, linkUrl) = await gateway.CreateLinkAsync(new
        {
            upstream = chain.Upstream.BaseUrl + path, price = "0.05", payTo = payTo.ToString(), name = "Pass API",
            pass = new { price = "0.05", calls = 2, minutes = 60 },
        });
        using var client = new HttpClient();
        var passUrl = gateway.BaseUrl + "/pass/" + linkId;
        using var challenge = await client.PostAsync(passUrl, null);
        Assert.Equal(HttpStatusCode.PaymentRequired, challenge.StatusCode);
        var payment = new PaymentBuilder { Requirement = PaymentBuilder.RequirementFrom(challenge), PayerKey = chain.PayerKey }.V2Header();
        var payerBefore = await chain.BalanceAsync(chain.Payer);

        using (var stopped = await BuyAsync(client, passUrl, payment))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, stopped.StatusCode);
        }
        Assert.Equal(0, Volatile.Read(ref failAdd)); // it failed where staged: after the settlement
        Assert.Equal(50_000, await chain.BalanceAsync(payTo));

        // The pass purchase's payment, owed its pass, buys no call of the link, even at the same price.
        using (var call = new HttpRequestMessage(HttpMethod.Get, linkUrl))
        {
            call.Headers.TryAddWithoutValidation("PAYMENT-SIGNATURE", payment);
            using var refused = await client.SendAsync(call);
            Assert.Equal(HttpStatusCode.PaymentRequired, refused.StatusCode);
        }
        Assert.Equal(0, chain.Upstream.Hits(path));

        JsonElement pass;
        using (var issued = await BuyAsync(client, passUrl, payment))
        {
            Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
            pass = await issued.Content.ReadFromJsonAsync<JsonElement>();
        }
        Assert.Equal("wallet:" + chain.Payer.ToLowerHex(), pass.GetProperty("holder").GetString());
        Assert.Equal(2, pass.GetProperty("callsLeft").GetInt32());

        // Sent once more, the payment answers with the same pass; nothing more is paid or issued.
        using (var again = await BuyAsync(client, passUrl, payment))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            Assert.Equal(pass.GetProperty("id").GetString(), (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString());
        }
        Assert.Equal(payerBefore - 50_000, await chain.BalanceAsync(chain.Payer));
        Assert.Equal(50_000, await chain.BalanceAsync(payTo));
        var listed = await gateway.Admin.GetFromJsonAsync<JsonElement>($"/api/links/{linkId}/passes");
        Assert.Single(listed.GetProperty("items").EnumerateArray());
    }

    private static Task<HttpResponseMessage> BuyAsync(HttpClient client, string passUrl, string payment)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, passUrl);
        request.Headers.TryAddWithoutValidation("PAYMENT-SIGNATURE", payment);
        return client.SendAsync(request);
    }
}
