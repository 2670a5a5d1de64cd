using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using X402Serverless.Core.Access;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Access;

public sealed class KeysApiTests(AccessFixture fixture) : IClassFixture<AccessFixture>
{
    [Fact]
    public async Task A_key_is_created_with_a_role_shown_once_and_listed_without_its_secret()
    {
        var (admin, _) = await fixture.NewOrganisationAsync("Keys Ltd");
        using var created = await admin.PostAsJsonAsync("/api/keys", new { role = "billing" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var issued = await created.Content.ReadFromJsonAsync<JsonElement>();
        var secret = issued.GetProperty("key").GetString()!;
        Assert.StartsWith(ManagementKeys.Prefix, secret, StringComparison.Ordinal);
        Assert.Equal("billing", issued.GetProperty("role").GetString());
        Assert.False(issued.GetProperty("facilitator").GetBoolean());

        using var listed = await admin.GetAsync("/api/keys");
        var text = await listed.Content.ReadAsStringAsync();
        Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        var items = JsonDocument.Parse(text).RootElement.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["admin", "billing"], items.Select(i => i.GetProperty("role").GetString()));
        Assert.Equal(secret[..12], items[1].GetProperty("prefix").GetString());

        using var me = Gateway.Client(secret);
        Assert.Equal("billing", (await me.GetFromJsonAsync<JsonElement>("/api/organisation")).GetProperty("role").GetString());
    }

    private GatewayHost Gateway => fixture.Gateway;

    [Theory]
    [InlineData("""{"role":"root"}""", "invalid_role")]
    [InlineData("""{"role":"Admin"}""", "invalid_role")]
    [InlineData("""{"role":7}""", "invalid_role")]
    [InlineData("""{"facilitator":"yes"}""", "invalid_facilitator")]
    [InlineData("""{"scopes":["*"]}""", "unknown_field")]
    [InlineData("""[]""", "invalid_json")]
    [InlineData("""{"role":""", "invalid_json")]
    public async Task A_bad_key_request_is_a_400_problem(string body, string code)
    {
        var (admin, _) = await fixture.NewOrganisationAsync("Bad keys");
        using var response = await admin.PostAsync("/api/keys", new StringContent(body, Encoding.UTF8, "application/json"));
        await ProblemAssert.IsAsync(response, 400, code, body);
    }

    [Fact]
    public async Task The_last_admin_key_cannot_be_revoked_but_others_can()
    {
        var (admin, _) = await fixture.NewOrganisationAsync("Last admin");
        var (second, secondId) = await fixture.NewKeyAsync(admin, KeyRoles.Admin);
        var (_, readOnlyId) = await fixture.NewKeyAsync(admin, KeyRoles.ReadOnly);
        var firstId = (await admin.GetFromJsonAsync<JsonElement>("/api/keys")).GetProperty("items").EnumerateArray()
            .Single(k => k.GetProperty("current").GetBoolean()).GetProperty("id").GetString();

        using (var revokeReadOnly = await admin.DeleteAsync($"/api/keys/{readOnlyId}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, revokeReadOnly.StatusCode);
        }
        using (var revokeFirst = await second.DeleteAsync($"/api/keys/{firstId}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, revokeFirst.StatusCode);
        }
        // Only the second admin key is left: it cannot revoke itself, and nothing else of this organisation can.
        using var self = await second.DeleteAsync($"/api/keys/{secondId}");
        await ProblemAssert.IsAsync(self, 409, "key_in_use");
        var (third, _) = await fixture.NewKeyAsync(second, KeyRoles.Developer);
        using var byDeveloper = await third.DeleteAsync($"/api/keys/{secondId}");
        await ProblemAssert.IsAsync(byDeveloper, 403, "forbidden_for_role");
        Assert.Equal(HttpStatusCode.OK, (await second.GetAsync("/api/keys")).StatusCode);
    }

    [Fact]
    public async Task Two_admins_revoking_each_other_at_once_leave_the_organisation_an_admin()
    {
        var (first, _) = await fixture.NewOrganisationAsync("Duel");
        var (second, secondId) = await fixture.NewKeyAsync(first, KeyRoles.Admin);
        var firstId = (await first.GetFromJsonAsync<JsonElement>("/api/keys")).GetProperty("items").EnumerateArray()
            .Single(k => k.GetProperty("current").GetBoolean()).GetProperty("id").GetString();

        var answers = await Task.WhenAll(first.DeleteAsync($"/api/keys/{secondId}"), second.DeleteAsync($"/api/keys/{firstId}"));
        var statuses = answers.Select(a => (int)a.StatusCode).Order().ToArray();
        // One wins; the other is refused, as the last admin (409) or because its own key is already gone (401).
        Assert.True(statuses is [204, 401] or [204, 409], string.Join(",", statuses));
        var survivor = answers[0].StatusCode == HttpStatusCode.NoContent ? first : second;
        var keys = await survivor.GetFromJsonAsync<JsonElement>("/api/keys");
        Assert.Equal(["admin"], keys.GetProperty("items").EnumerateArray().Select(k => k.GetProperty("role").GetString()));
        foreach (var a in answers)
        {
            a.Dispose();
        }
    }

    [Fact]
    public async Task Another_organisations_keys_are_neither_listed_nor_revocable()
    {
        var (alice, _) = await fixture.NewOrganisationAsync("Alice keys");
        var (bob, _) = await fixture.NewOrganisationAsync("Bob keys");
        var (_, aliceKeyId) = await fixture.NewKeyAsync(alice, KeyRoles.Developer);

        using var revoke = await bob.DeleteAsync($"/api/keys/{aliceKeyId}");
        await ProblemAssert.IsAsync(revoke, 404, "not_found");
        var bobs = await bob.GetFromJsonAsync<JsonElement>("/api/keys");
        Assert.DoesNotContain(aliceKeyId, bobs.ToString(), StringComparison.Ordinal);
        Assert.Equal(2, (await alice.GetFromJsonAsync<JsonElement>("/api/keys")).GetProperty("items").GetArrayLength());
    }
}
