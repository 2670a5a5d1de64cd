using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.Webhooks.WebhooksFixture;

namespace X402Serverless.Tests.Webhooks;

/// <summary>/api/webhooks as an attacker and a careless client would use it: other organisations, SSRF targets, bad input.</summary>
public sealed class WebhookEndpointApiTests(WebhooksFixture fixture) : IClassFixture<WebhooksFixture>
{
    [Fact]
    public async Task Another_organisations_key_can_neither_see_nor_touch_an_endpoint_or_its_deliveries()
    {
        var owner = await fixture.NewOrganisationAsync();
        var other = await fixture.NewOrganisationAsync();
        var name = "iso" + Guid.NewGuid().ToString("N")[..8];
        var (id, _) = await fixture.NewEndpointAsync(owner, name);
        var deliveryId = (await SendTestAsync(owner, id)).GetProperty("id").GetString()!;
        await WaitForStatusAsync(owner, id, deliveryId, "delivered");

        var attempts = new (HttpMethod Method, string Path, object? Body)[]
        {
            (HttpMethod.Get, $"/api/webhooks/{id}", null),
            (HttpMethod.Patch, $"/api/webhooks/{id}", new { enabled = false }),
            (HttpMethod.Delete, $"/api/webhooks/{id}", null),
            (HttpMethod.Post, $"/api/webhooks/{id}/secrets", null),
            (HttpMethod.Post, $"/api/webhooks/{id}/test", null),
            (HttpMethod.Get, $"/api/webhooks/{id}/deliveries", null),
            (HttpMethod.Get, $"/api/webhooks/{id}/deliveries/{deliveryId}", null),
            (HttpMethod.Post, $"/api/webhooks/{id}/deliveries/{deliveryId}/redeliver", null),
        };
        foreach (var (method, path, body) in attempts)
        {
            using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
            using var response = await other.SendAsync(request);
            await ProblemAssert.IsAsync(response, 404, "not_found", $"{method} {path}");
        }
        Assert.Empty((await other.GetFromJsonAsync<JsonElement>("/api/webhooks")).GetProperty("items").EnumerateArray());
        var still = await owner.GetFromJsonAsync<JsonElement>($"/api/webhooks/{id}");
        Assert.True(still.GetProperty("enabled").GetBoolean());
        Assert.Single(still.GetProperty("secrets").EnumerateArray());
        Assert.Single(fixture.Receiver.To(name));
        using var unauthenticated = await fixture.Gateway.Client().GetAsync("/api/webhooks");
        await ProblemAssert.IsAsync(unauthenticated, 401, "unauthorized");
    }

    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data/", "upstream_address_refused")]
    [InlineData("https://10.1.2.3/hook", "upstream_address_refused")]
    [InlineData("https://[::ffff:192.168.1.1]/hook", "upstream_address_refused")]
    [InlineData("https://[fd00::1]/hook", "upstream_address_refused")]
    [InlineData("http://0.0.0.0:8080/", "upstream_address_refused")]
    [InlineData("ftp://127.0.0.1/hook", "invalid_url")]
    [InlineData("/relative/hook", "invalid_url")]
    [InlineData("https://user:pass@127.0.0.1/hook", "invalid_url")]
    [InlineData("", "missing_url")]
    public async Task Private_metadata_and_malformed_targets_are_refused_with_a_problem_code(string url, string code)
    {
        var org = await fixture.NewOrganisationAsync();
        using var create = await org.PostAsJsonAsync("/api/webhooks", new { url, events = new[] { "payment.settled" } });
        await ProblemAssert.IsAsync(create, 400, code, url);

        // A change to such a target is refused the same way, and the endpoint keeps its URL.
        var (id, _) = await fixture.NewEndpointAsync(org, "ssrf");
        using var patch = await org.PatchAsJsonAsync($"/api/webhooks/{id}", new { url });
        await ProblemAssert.IsAsync(patch, 400, code, url);
        Assert.Equal(fixture.Receiver.Url("ssrf"), (await org.GetFromJsonAsync<JsonElement>($"/api/webhooks/{id}")).GetProperty("url").GetString());
    }

    [Theory]
    [InlineData("{not json", "invalid_json")]
    [InlineData("[]", "invalid_json")]
    [InlineData("""{"url":"https://127.0.0.1/h","events":["payment.settled"],"secret":"whsec_mine"}""", "unknown_field")]
    [InlineData("""{"url":"https://127.0.0.1/h","events":"payment.settled"}""", "invalid_type")]
    [InlineData("""{"url":"https://127.0.0.1/h","events":[]}""", "missing_events")]
    [InlineData("""{"url":"https://127.0.0.1/h"}""", "missing_events")]
    [InlineData("""{"url":"https://127.0.0.1/h","events":["payment.settled","payment.refunded"]}""", "unknown_event")]
    [InlineData("""{"url":"https://127.0.0.1/h","events":["payment.settled"],"enabled":"yes"}""", "invalid_type")]
    [InlineData("""{"url":"https://127.0.0.1/h","events":["payment.settled"],"description":"two\nlines"}""", "invalid_description")]
    public async Task Malformed_input_gets_a_400_problem_naming_what_is_wrong(string body, string code)
    {
        var org = await fixture.NewOrganisationAsync();
        using var response = await org.PostAsync("/api/webhooks", new StringContent(body, Encoding.UTF8, "application/json"));
        await ProblemAssert.IsAsync(response, 400, code, body);
    }

    [Fact]
    public async Task An_endpoint_is_listed_changed_and_deleted_and_its_deliveries_go_with_it()
    {
        var org = await fixture.NewOrganisationAsync();
        var (id, _) = await fixture.NewEndpointAsync(org, "crud", "payment.settled", "payment.failed");
        var listed = Assert.Single((await org.GetFromJsonAsync<JsonElement>("/api/webhooks")).GetProperty("items").EnumerateArray());
        Assert.Equal(["payment.settled", "payment.failed"], listed.GetProperty("events").EnumerateArray().Select(e => e.GetString()));

        using var patch = await org.PatchAsJsonAsync($"/api/webhooks/{id}", new { events = new[] { "link.unhealthy" }, enabled = false });
        var changed = await patch.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        Assert.False(changed.GetProperty("enabled").GetBoolean());
        Assert.Equal(["link.unhealthy"], changed.GetProperty("events").EnumerateArray().Select(e => e.GetString()));

        using var delete = await org.DeleteAsync($"/api/webhooks/{id}");
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        using var gone = await org.GetAsync($"/api/webhooks/{id}/deliveries");
        await ProblemAssert.IsAsync(gone, 404, "not_found");
        using var limit = await org.GetAsync($"/api/webhooks/{id}/deliveries?limit=0");
        await ProblemAssert.IsAsync(limit, 400, "invalid_limit");
    }
}
