using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Ports;
using X402Serverless.Core.Stripe;
using X402Serverless.Tests.Credits;

namespace X402Serverless.Tests.ProviderConsole;

/// <summary>Topping up the organisation's allowance pool by card from the payers page: the API's checks and Checkout Session.</summary>
public sealed class ConsolePoolTopUpTests(CreditsFixture fixture) : IClassFixture<CreditsFixture>
{
    [Fact]
    public async Task A_billing_key_starts_a_pool_checkout_from_the_payers_page_and_gets_a_link_to_pay()
    {
        using var created = await fixture.Gateway.Admin.PostAsJsonAsync("/api/organisations", new { name = "Console pool" });
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        var organisation = body.GetProperty("id").GetString()!;
        using var admin = fixture.Gateway.Client(body.GetProperty("key").GetString()!);
        using var session = await ConsoleSession.SignedInAsync(fixture.Gateway, await ConsoleRolesTests.NewKeyAsync(admin, "billing"));

        using (var bad = await session.PostFormAsync("/console/payers", "pool-topup", new() { ["TopUp.Amount"] = "5.001" }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Contains("data-field=\"amount\" data-code=\"invalid_amount\"", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        Assert.DoesNotContain(fixture.Stripe.Sessions, s => s.Form.GetValueOrDefault("metadata[organisation_id]") == organisation);

        using (var started = await session.PostFormAsync("/console/payers", "pool-topup", new() { ["TopUp.Amount"] = "25.00" }))
        {
            Assert.Equal(HttpStatusCode.OK, started.StatusCode);
            var html = await started.Content.ReadAsStringAsync();
            var link = Regex.Match(html, "<a href=\"([^\"]+)\" id=\"checkout-link\"").Groups[1].Value;
            Assert.StartsWith("https://checkout.stripe.com/", WebUtility.HtmlDecode(link), StringComparison.Ordinal);
        }
        var sent = Assert.Single(fixture.Stripe.Sessions, s => s.Form.GetValueOrDefault("metadata[organisation_id]") == organisation);
        Assert.Equal("2500", sent.Form["line_items[0][price_data][unit_amount]"]);
        // Recorded as the API records it: the webhook credits this organisation's pool this amount, whatever the metadata says.
        var recorded = await fixture.Gateway.Services.GetRequiredService<ICardTopUpStore>().GetAsync(sent.Id, default);
        Assert.Equal((CardTopUp.Organisation, organisation, 25_000_000L), (recorded!.Kind, recorded.AccountId, recorded.Amount.Micros));
        var entry = (await admin.GetFromJsonAsync<JsonElement>("/api/audit?action=organisation.topup.card")).GetProperty("items")[0];
        Assert.Equal("billing", entry.GetProperty("actor").GetProperty("role").GetString());
        Assert.Contains("\"amount\":\"25.00\"", entry.GetProperty("after").GetString(), StringComparison.Ordinal);

        // A developer has no payers page, so no form to post to.
        using var developer = await ConsoleSession.SignedInAsync(fixture.Gateway, await ConsoleRolesTests.NewKeyAsync(admin, "developer"));
        using var refused = await developer.PostFormAsync("/console/payers", "pool-topup", new() { ["TopUp.Amount"] = "25.00" }, tokenFrom: "/console");
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Single(fixture.Stripe.Sessions, s => s.Form.GetValueOrDefault("metadata[organisation_id]") == organisation);
    }
}
