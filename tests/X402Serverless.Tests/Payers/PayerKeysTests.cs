using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using X402Serverless.Core.Ledger;
using X402Serverless.Tests.Credits;
using static X402Serverless.Tests.Credits.CreditsFixture;

namespace X402Serverless.Tests.Payers;

/// <summary>A leaked or lost payer key can be replaced and revoked, by the payer or by its organisation.</summary>
public sealed class PayerKeysTests(CreditsFixture fixture) : IClassFixture<CreditsFixture>
{
    private static async Task<JsonElement[]> KeysAsync(HttpClient client, string path) =>
        [.. (await client.GetFromJsonAsync<JsonElement>(path)).GetProperty("items").EnumerateArray()];

    [Fact]
    public async Task A_revoked_key_stops_paying_at_once_while_the_payers_other_keys_and_balance_carry_on()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await NewPayerAsync(org, new { name = "Agent with two keys" });
        await fixture.FundAsync(Accounts.Credits(payer.Id), 50_000);
        var link = await fixture.NewLinkAsync(org, "0.01", ["credits"]);

        using var me = fixture.Gateway.Client(payer.Key);
        string second;
        using (var issued = await me.PostAsync("/api/me/keys", null))
        {
            Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
            second = (await issued.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
        }
        var keys = await KeysAsync(me, "/api/me/keys");
        Assert.Equal(2, keys.Length);
        Assert.All(keys, k => Assert.StartsWith("x402pk_", k.GetProperty("prefix").GetString(), StringComparison.Ordinal));
        Assert.DoesNotContain(payer.Key, JsonSerializer.Serialize(keys), StringComparison.Ordinal);
        Assert.DoesNotContain(second, JsonSerializer.Serialize(keys), StringComparison.Ordinal);
        Assert.Equal(keys, await KeysAsync(org, $"/api/payers/{payer.Id}/keys"), JsonElementComparer.Instance);

        // The organisation revokes the first (leaked) key.
        var first = keys.Single(k => payer.Key.StartsWith(k.GetProperty("prefix").GetString()!, StringComparison.Ordinal)).GetProperty("id").GetString();
        using (var revoked = await org.DeleteAsync($"/api/payers/{payer.Id}/keys/{first}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        }
        using (var refused = await CallAsync(link.Url, payer.Key))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Equal("invalid_payer_key", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        }
        using (var paid = await CallAsync(link.Url, second))
        {
            Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
        }
        Assert.Equal(40_000, (await fixture.Ledger.BalanceAsync(Accounts.Credits(payer.Id), default)).Micros);
        using (var withSecond = fixture.Gateway.Client(second))
        {
            Assert.Single(await KeysAsync(withSecond, "/api/me/keys"));
        }

        // Revoking again, or a key that is not this payer's, is a 404; so is another organisation's payer.
        using (var again = await org.DeleteAsync($"/api/payers/{payer.Id}/keys/{first}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        }
        using var stranger = await fixture.NewOrganisationAsync();
        using (var foreign = await stranger.GetAsync($"/api/payers/{payer.Id}/keys"))
        {
            Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
        }
        using (var foreignIssue = await stranger.PostAsync($"/api/payers/{payer.Id}/keys", null))
        {
            Assert.Equal(HttpStatusCode.NotFound, foreignIssue.StatusCode);
        }
        Assert.Single(await KeysAsync(org, $"/api/payers/{payer.Id}/keys"));
    }

    [Fact]
    public async Task A_payer_may_revoke_the_key_it_is_using_and_the_organisation_issues_a_new_one()
    {
        using var org = await fixture.NewOrganisationAsync();
        var payer = await NewPayerAsync(org, new { name = "Careless agent" });
        using var me = fixture.Gateway.Client(payer.Key);
        var only = (await KeysAsync(me, "/api/me/keys")).Single().GetProperty("id").GetString();
        using (var revoked = await me.DeleteAsync($"/api/me/keys/{only}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        }
        using (var locked = await me.GetAsync("/api/me"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, locked.StatusCode);
        }
        using var issued = await org.PostAsync($"/api/payers/{payer.Id}/keys", null);
        Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
        using var fresh = fixture.Gateway.Client((await issued.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString());
        Assert.Equal(payer.Id, (await fresh.GetFromJsonAsync<JsonElement>("/api/me")).GetProperty("id").GetString());
    }

    private sealed class JsonElementComparer : IEqualityComparer<JsonElement>
    {
        public static readonly JsonElementComparer Instance = new();

        public bool Equals(JsonElement x, JsonElement y) => x.GetRawText() == y.GetRawText();

        public int GetHashCode(JsonElement obj) => obj.GetRawText().GetHashCode(StringComparison.Ordinal);
    }
}
