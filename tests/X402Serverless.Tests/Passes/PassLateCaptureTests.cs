using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using X402Serverless.Core.Credits;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Money;
using X402Serverless.Core.Ports;
using X402Serverless.Tests.Credits;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Passes;

/// <summary>
/// A pass bought with credits whose hold is swept (the stale-hold sweep gives the money back) before its capture:
/// nothing is paid, so no pass is issued and the buyer gets the paywall (insufficient_credits), never a 500 or a free
/// pass; the purchase's Idempotency-Key is let go, so buying again with it works.
/// </summary>
public sealed class PassLateCaptureTests
{
    [Fact]
    public async Task A_pass_whose_hold_was_swept_before_its_capture_is_not_issued_and_the_key_buys_it_again()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var armed = 0;
        var swept = false;
        HookedLedger? ledger = null;
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["X402:FacilitatorUrl"] = $"http://127.0.0.1:{PeerProcess.FreePort()}",
        }, b =>
        {
            b.Services.AddSingleton<TimeProvider>(clock);
            // The gateway registers its ledger after this runs; the ledger is replaced once every registration is in.
            b.Host.UseServiceProviderFactory(new LateRegistrations(services => LateRegistrations.Decorate<ILedger>(services,
                // The first hold capture after arming finds its hold swept: the clock moves an hour on and the gateway's
                // own stale-hold sweep runs before the capture goes on to the store.
                (sp, store) => ledger = new HookedLedger(store)
                {
                    BeforeCaptureHold = async _ =>
                    {
                        if (Interlocked.Exchange(ref armed, 0) == 1)
                        {
                            clock.Advance(TimeSpan.FromHours(1));
                            await sp.GetRequiredService<CreditCharges>().ReleaseStaleAsync(TimeSpan.FromMinutes(10), default);
                            swept = true;
                        }
                    },
                })));
        });

        using var created = await gateway.Admin.PostAsJsonAsync("/api/organisations", new { name = "Late pass org" });
        using var organisation = gateway.Client((await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString());
        var (payerId, payerKey, _) = await CreditsFixture.NewPayerAsync(organisation, new { name = "Late pass buyer" });
        var (linkId, _) = await gateway.CreateLinkAsync(new Dictionary<string, object?>
        {
            ["upstream"] = "http://127.0.0.1:9/never-called", ["price"] = "0.10", ["payTo"] = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
            ["accepts"] = new[] { "credits" }, ["pass"] = new { price = "0.25", calls = 2 },
        }, organisation);
        var store = gateway.Services.GetRequiredService<ILedger>();
        Assert.Same(ledger, store);
        await store.PostAsync(LedgerEntry.Transfer("late-pass-fund", "topup", Accounts.CardClearing, Accounts.Credits(payerId), Usd.FromMicros(1_000_000)), [], default);
        var key = "buy_" + Guid.NewGuid().ToString("N");

        Volatile.Write(ref armed, 1);
        using (var refused = await BuyAsync(gateway, linkId, payerKey, key))
        {
            var body = await refused.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.PaymentRequired, refused.StatusCode);
            Assert.Contains("insufficient_credits", body, StringComparison.Ordinal);
            Assert.False(refused.Headers.Contains("X-Charged"));
        }
        Assert.True(swept); // the capture came after the sweep, as staged
        Assert.Equal(1_000_000, (await store.BalanceAsync(Accounts.Credits(payerId), default)).Micros);
        Assert.Empty(await store.StaleHoldsAsync(DateTimeOffset.MaxValue, 10, default));
        Assert.Empty(await PassesAsync(gateway, payerKey));

        // The refusal let the key go: the same purchase, retried, pays and issues one pass.
        using (var bought = await BuyAsync(gateway, linkId, payerKey, key))
        {
            Assert.Equal(HttpStatusCode.Created, bought.StatusCode);
            Assert.Equal("0.25", bought.Headers.GetValues("X-Charged").Single());
        }
        Assert.Equal(750_000, (await store.BalanceAsync(Accounts.Credits(payerId), default)).Micros);
        Assert.Single(await PassesAsync(gateway, payerKey));
    }

    private static async Task<HttpResponseMessage> BuyAsync(GatewayHost gateway, string linkId, string payerKey, string idempotencyKey)
    {
        using var client = gateway.Client(payerKey);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/pass/{linkId}");
        request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        return await client.SendAsync(request);
    }

    private static async Task<List<JsonElement>> PassesAsync(GatewayHost gateway, string payerKey)
    {
        using var client = gateway.Client(payerKey);
        var page = await client.GetFromJsonAsync<JsonElement>("/api/me/passes");
        return [.. page.GetProperty("items").EnumerateArray()];
    }
}
