using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Management;

public sealed class OrganisationIsolationTests(ManagementFixture fixture) : IClassFixture<ManagementFixture>
{
    private GatewayHost Gateway => fixture.Gateway;

    private async Task<HttpClient> NewOrganisationAsync(string name)
    {
        using var response = await Gateway.Admin.PostAsJsonAsync("/api/organisations", new { name });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var key = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
        return Gateway.Client(key);
    }

    [Fact]
    public async Task One_organisation_can_neither_see_nor_change_anothers_links()
    {
        using var alice = await NewOrganisationAsync("Alice Inc");
        using var bob = await NewOrganisationAsync("Bob Ltd");
        var (id, _) = await Gateway.CreateLinkAsync(new { upstream = "http://127.0.0.1:9/a", price = "0.01", payTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C" }, alice);

        using var get = await bob.GetAsync($"/api/links/{id}");
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        using var patch = await bob.PatchAsJsonAsync($"/api/links/{id}", new { price = "9.99" });
        Assert.Equal(HttpStatusCode.NotFound, patch.StatusCode);
        using var delete = await bob.DeleteAsync($"/api/links/{id}");
        Assert.Equal(HttpStatusCode.NotFound, delete.StatusCode);
        var bobs = await bob.GetFromJsonAsync<JsonElement>("/api/links");
        Assert.Empty(bobs.GetProperty("items").EnumerateArray());

        var alices = await alice.GetFromJsonAsync<JsonElement>($"/api/links/{id}");
        Assert.Equal("0.01", alices.GetProperty("price").GetString());
    }

    [Fact]
    public async Task Only_the_operator_creates_organisations()
    {
        using var carol = await NewOrganisationAsync("Carol GmbH");
        using var response = await carol.PostAsJsonAsync("/api/organisations", new { name = "Sneaky" });
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("forbidden", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
    }

    [Fact]
    public async Task An_organisation_can_add_keys_that_act_for_it()
    {
        using var dave = await NewOrganisationAsync("Dave LLC");
        using var created = await dave.PostAsync("/api/keys", null);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var key = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
        using var second = Gateway.Client(key);
        var me = await second.GetFromJsonAsync<JsonElement>("/api/organisation");
        Assert.Equal("Dave LLC", me.GetProperty("name").GetString());
    }

    [Fact]
    public async Task A_leaked_key_can_be_revoked_by_another_key_and_stops_working_at_once()
    {
        using var org = await NewOrganisationAsync("Erin SA");
        using var created = await org.PostAsync("/api/keys", null);
        var leaked = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
        var keys = await org.GetFromJsonAsync<JsonElement>("/api/keys");
        Assert.Equal(2, keys.GetProperty("items").GetArrayLength());
        Assert.DoesNotContain(leaked, keys.ToString(), StringComparison.Ordinal); // listings show prefixes only
        var leakedId = keys.GetProperty("items").EnumerateArray().Single(k => !k.GetProperty("current").GetBoolean()).GetProperty("id").GetString();
        var currentId = keys.GetProperty("items").EnumerateArray().Single(k => k.GetProperty("current").GetBoolean()).GetProperty("id").GetString();

        using var self = await org.DeleteAsync($"/api/keys/{currentId}");
        Assert.Equal(HttpStatusCode.Conflict, self.StatusCode);
        using var revoked = await org.DeleteAsync($"/api/keys/{leakedId}");
        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        using var attacker = Gateway.Client(leaked);
        using var refused = await attacker.GetAsync("/api/links");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }
}
