using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.ProviderConsole;

/// <summary>The console answers to the key's role like the API does, and its forms land in the same audit log.</summary>
public sealed class ConsoleRolesTests(ConsoleFixture fixture) : IClassFixture<ConsoleFixture>
{
    private GatewayHost Gateway => fixture.Gateway;

    internal static async Task<string> NewKeyAsync(HttpClient admin, string role)
    {
        using var response = await admin.PostAsJsonAsync("/api/keys", new { role });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
    }

    private static Dictionary<string, string> NewLink(string name) => new()
    {
        ["Input.Name"] = name,
        ["Input.Upstream"] = "http://127.0.0.1:9/api",
        ["Input.Price"] = "0.03",
        ["Input.PayTo"] = ConsoleFixture.PayTo,
        ["Input.AcceptX402"] = "true",
    };

    [Fact]
    public async Task A_read_only_key_sees_no_forms_and_a_forged_post_changes_nothing()
    {
        var (adminKey, admin) = await fixture.NewOrganisationAsync("Console read-only");
        using (admin)
        {
            var (linkId, _) = await fixture.CreateLinkAsync(admin, "Existing");
            using var session = await ConsoleSession.SignedInAsync(Gateway, await NewKeyAsync(admin, "read-only"));

            var (status, html) = await session.GetAsync("/console/links/new");
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Contains("id=\"role-notice\"", html, StringComparison.Ordinal);
            Assert.DoesNotContain("id=\"new-link-form\"", html, StringComparison.Ordinal);
            Assert.DoesNotContain("id=\"nav-new-link\"", html, StringComparison.Ordinal);
            var (_, details) = await session.GetAsync($"/console/links/{linkId}");
            Assert.DoesNotContain("id=\"edit-link-form\"", details, StringComparison.Ordinal);

            // The form is not rendered for this role, so a forged post has no form to reach: refused before any handler runs.
            using (var forced = await session.PostFormAsync("/console/links/new", "new-link", NewLink("Sneaky"), tokenFrom: "/console"))
            {
                Assert.Equal(HttpStatusCode.BadRequest, forced.StatusCode);
            }
            using (var forcedEdit = await session.PostFormAsync($"/console/links/{linkId}", "edit-link", new() { ["Input.Name"] = "Hijacked", ["Input.Price"] = "9" }, tokenFrom: "/console"))
            {
                Assert.Equal(HttpStatusCode.BadRequest, forcedEdit.StatusCode);
            }
            var links = await admin.GetFromJsonAsync<JsonElement>("/api/links");
            Assert.Equal(["Existing"], links.GetProperty("items").EnumerateArray().Select(l => l.GetProperty("name").GetString()));
            Assert.Empty((await admin.GetFromJsonAsync<JsonElement>("/api/audit?targetType=link&action=link.update")).GetProperty("items").EnumerateArray());
            _ = adminKey;
        }
    }

    [Fact]
    public async Task A_read_only_key_cannot_create_an_inbox_or_change_its_block_list_from_the_console()
    {
        var (_, admin) = await fixture.NewOrganisationAsync("Console read-only inbox");
        using (admin)
        {
            var (inboxId, _) = await Gateway.CreateLinkAsync(new
            {
                name = "Write to me", price = "0.25", payTo = ConsoleFixture.PayTo, accepts = new[] { "credits" }, inbox = new { deliverTo = "owner@example.com" },
            }, admin);
            using var session = await ConsoleSession.SignedInAsync(Gateway, await NewKeyAsync(admin, "read-only"));

            using (var create = await session.PostFormAsync("/console/inboxes/new", "new-inbox", new()
            {
                ["Input.Name"] = "Sneaky inbox", ["Input.DeliverTo"] = "thief@example.com", ["Input.Price"] = "0.01", ["Input.PayTo"] = ConsoleFixture.PayTo,
                ["Input.AcceptCredits"] = "true",
            }))
            {
                Assert.Equal(HttpStatusCode.Forbidden, create.StatusCode);
            }
            using (var block = await session.PostFormAsync($"/console/links/{inboxId}/messages", "block-list", new() { ["Block.Block"] = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C" }))
            {
                Assert.Equal(HttpStatusCode.Forbidden, block.StatusCode);
            }

            var links = await admin.GetFromJsonAsync<JsonElement>("/api/links");
            Assert.Equal(["Write to me"], links.GetProperty("items").EnumerateArray().Select(l => l.GetProperty("name").GetString()));
            var inbox = await admin.GetFromJsonAsync<JsonElement>($"/api/links/{inboxId}");
            Assert.Empty(inbox.GetProperty("inbox").GetProperty("block").EnumerateArray());
            var denied = (await admin.GetFromJsonAsync<JsonElement>("/api/audit")).GetProperty("items").EnumerateArray()
                .Where(e => e.GetProperty("outcome").GetString() == "denied").Select(e => e.GetProperty("action").GetString()).Order().ToList();
            Assert.Equal(["inbox.block", "link.create"], denied);
        }
    }

    [Fact]
    public async Task A_developers_console_edits_are_in_the_audit_log_and_the_audit_page_is_not_theirs()
    {
        var (_, admin) = await fixture.NewOrganisationAsync("Console developer");
        using (admin)
        {
            using var session = await ConsoleSession.SignedInAsync(Gateway, await NewKeyAsync(admin, "developer"));
            using (var created = await session.PostFormAsync("/console/links/new", "new-link", NewLink("From the console")))
            {
                Assert.Equal(HttpStatusCode.Found, created.StatusCode);
            }
            var entry = (await admin.GetFromJsonAsync<JsonElement>("/api/audit?action=link.create")).GetProperty("items")[0];
            Assert.Equal("developer", entry.GetProperty("actor").GetProperty("role").GetString());
            Assert.Equal("succeeded", entry.GetProperty("outcome").GetString());
            Assert.Contains("From the console", entry.GetProperty("after").GetString(), StringComparison.Ordinal);

            var (status, html) = await session.GetAsync("/console/audit");
            Assert.Equal(HttpStatusCode.Forbidden, status);
            Assert.Contains("id=\"role-notice\"", html, StringComparison.Ordinal);
            var (csvStatus, _) = await session.GetAsync("/console/audit.csv");
            Assert.Equal(HttpStatusCode.Forbidden, csvStatus);
            var (payersStatus, _) = await session.GetAsync("/console/payers");
            Assert.Equal(HttpStatusCode.Forbidden, payersStatus);
        }
    }

    [Fact]
    public async Task The_audit_csv_download_holds_only_the_organisations_entries()
    {
        var (adminKey, admin) = await fixture.NewOrganisationAsync("Console CSV");
        var (_, other) = await fixture.NewOrganisationAsync("Console CSV other");
        using (admin)
        using (other)
        {
            var (mine, _) = await fixture.CreateLinkAsync(admin, "Mine");
            var (theirs, _) = await fixture.CreateLinkAsync(other, "Theirs");
            using var session = await ConsoleSession.SignedInAsync(Gateway, adminKey);
            using var csv = await session.Http.GetAsync("/console/audit.csv?targetType=link");
            Assert.Equal(HttpStatusCode.OK, csv.StatusCode);
            Assert.Equal("attachment", csv.Content.Headers.ContentDisposition?.DispositionType);
            var text = await csv.Content.ReadAsStringAsync();
            Assert.Contains(mine, text, StringComparison.Ordinal);
            Assert.DoesNotContain(theirs, text, StringComparison.Ordinal);
        }
    }
}
