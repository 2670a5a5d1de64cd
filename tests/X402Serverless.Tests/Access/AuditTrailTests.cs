using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using X402Serverless.Core.Access;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Access;

/// <summary>Every management change is in its organisation's audit log: who, what, before/after (redacted), where, outcome.</summary>
public sealed class AuditTrailTests(AccessFixture fixture) : IClassFixture<AccessFixture>
{
    private const string UpstreamSecret = "sk_live_upstream_secret_value_123";

    private static async Task<List<JsonElement>> EntriesAsync(HttpClient client, string query = "")
    {
        var page = await client.GetFromJsonAsync<JsonElement>("/api/audit" + query);
        return page.GetProperty("items").EnumerateArray().ToList();
    }

    private static JsonElement? Json(JsonElement entry, string name) =>
        entry.GetProperty(name).ValueKind == JsonValueKind.String ? JsonDocument.Parse(entry.GetProperty(name).GetString()!).RootElement : null;

    [Fact]
    public async Task Link_changes_are_recorded_with_before_and_after_and_no_header_values()
    {
        var (admin, _) = await fixture.NewOrganisationAsync("Audited links");
        var (developer, developerId) = await fixture.NewKeyAsync(admin, KeyRoles.Developer);
        var (id, _) = await fixture.Gateway.CreateLinkAsync(new
        {
            upstream = "http://127.0.0.1:9/a", price = "0.01", payTo = AccessFixture.PayTo, name = "First",
            upstreamHeaders = new Dictionary<string, string> { ["X-Api-Key"] = UpstreamSecret },
        }, developer);
        using (var patch = await developer.PatchAsJsonAsync($"/api/links/{id}", new { name = "Renamed", price = "0.02" }))
        {
            Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        }
        using (var delete = await developer.DeleteAsync($"/api/links/{id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }

        var entries = await EntriesAsync(admin, "?targetType=link");
        Assert.Equal(["link.delete", "link.update", "link.create"], entries.Select(e => e.GetProperty("action").GetString()));
        Assert.All(entries, e =>
        {
            Assert.Equal(id, e.GetProperty("targetId").GetString());
            Assert.Equal(developerId, e.GetProperty("actor").GetProperty("id").GetString());
            Assert.Equal(KeyRoles.Developer, e.GetProperty("actor").GetProperty("role").GetString());
            Assert.Equal("succeeded", e.GetProperty("outcome").GetString());
            Assert.Equal("127.0.0.1", e.GetProperty("clientAddress").GetString());
        });
        var (delete_, update, create) = (entries[0], entries[1], entries[2]);
        Assert.Null(Json(create, "before"));
        Assert.Equal("First", Json(create, "after")!.Value.GetProperty("name").GetString());
        Assert.Equal("First", Json(update, "before")!.Value.GetProperty("name").GetString());
        Assert.Equal("Renamed", Json(update, "after")!.Value.GetProperty("name").GetString());
        Assert.Equal("0.02", Json(update, "after")!.Value.GetProperty("price").GetString());
        Assert.Equal("Renamed", Json(delete_, "before")!.Value.GetProperty("name").GetString());
        Assert.Null(Json(delete_, "after"));
        using var csv = await admin.GetAsync("/api/audit.csv");
        Assert.DoesNotContain(UpstreamSecret, await csv.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(UpstreamSecret, (await admin.GetStringAsync("/api/audit")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Keys_payers_budget_import_and_organisations_are_recorded_and_issued_secrets_are_redacted()
    {
        var (admin, organisationId) = await fixture.NewOrganisationAsync("Audited everything");
        using var keyResponse = await admin.PostAsJsonAsync("/api/keys", new { role = "billing" });
        var issuedKey = await keyResponse.Content.ReadFromJsonAsync<JsonElement>();
        var billing = fixture.Gateway.Client(issuedKey.GetProperty("key").GetString()!);
        using var payerResponse = await billing.PostAsJsonAsync("/api/payers", new { name = "Pat" });
        var issuedPayer = await payerResponse.Content.ReadFromJsonAsync<JsonElement>();
        var payerId = issuedPayer.GetProperty("payer").GetProperty("id").GetString()!;
        using (var update = await billing.PatchAsJsonAsync($"/api/payers/{payerId}", new { name = "Pat B." }))
        {
            Assert.Equal(HttpStatusCode.OK, update.StatusCode);
        }
        using var payerKey = await billing.PostAsync($"/api/payers/{payerId}/keys", null);
        var payerKeySecret = (await payerKey.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
        using (var budget = await billing.PutAsJsonAsync("/api/organisation/budget", new { monthlyBudget = "250.00" }))
        {
            Assert.Equal(HttpStatusCode.OK, budget.StatusCode);
        }
        using (var import = await admin.PostAsJsonAsync("/api/links/import", new { }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, import.StatusCode);
        }
        using (var revoke = await admin.DeleteAsync($"/api/keys/{issuedKey.GetProperty("id").GetString()}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        }

        var entries = await EntriesAsync(admin);
        Assert.Equal(
            ["key.delete", "link.import", "organisation.budget.update", "payer.key.create", "payer.update", "payer.create", "key.create"],
            entries.Select(e => e.GetProperty("action").GetString()));
        var text = string.Join("\n", entries.Select(e => e.ToString()));
        Assert.DoesNotContain(issuedKey.GetProperty("key").GetString()!, text, StringComparison.Ordinal);
        Assert.DoesNotContain(issuedPayer.GetProperty("key").GetString()!, text, StringComparison.Ordinal);
        Assert.DoesNotContain(payerKeySecret, text, StringComparison.Ordinal);

        var keyCreate = entries.Single(e => e.GetProperty("action").GetString() == "key.create");
        Assert.Equal("[redacted]", Json(keyCreate, "after")!.Value.GetProperty("key").GetString());
        Assert.Equal("billing", Json(keyCreate, "after")!.Value.GetProperty("role").GetString());
        Assert.Equal(issuedKey.GetProperty("id").GetString(), keyCreate.GetProperty("targetId").GetString());
        var keyDelete = entries.Single(e => e.GetProperty("action").GetString() == "key.delete");
        Assert.Equal("billing", Json(keyDelete, "before")!.Value.GetProperty("role").GetString());
        var payerUpdate = entries.Single(e => e.GetProperty("action").GetString() == "payer.update");
        Assert.Equal(("Pat", "Pat B."), (Json(payerUpdate, "before")!.Value.GetProperty("name").GetString(), Json(payerUpdate, "after")!.Value.GetProperty("name").GetString()));
        Assert.Equal("billing", payerUpdate.GetProperty("actor").GetProperty("role").GetString());
        Assert.Equal(payerId, entries.Single(e => e.GetProperty("action").GetString() == "payer.create").GetProperty("targetId").GetString());
        var import_ = entries.Single(e => e.GetProperty("action").GetString() == "link.import");
        Assert.Equal(("failed", 400), (import_.GetProperty("outcome").GetString(), import_.GetProperty("status").GetInt32()));

        // Creating an organisation is recorded in the creator's (the operator's) log, with the new key redacted.
        var operatorEntries = await EntriesAsync(fixture.Gateway.Admin, "?action=organisation.create&targetId=" + organisationId);
        Assert.Equal("[redacted]", Json(Assert.Single(operatorEntries), "after")!.Value.GetProperty("key").GetString());
        billing.Dispose();
    }

    [Fact]
    public async Task A_refused_attempt_is_recorded_as_denied_and_a_spoofed_client_address_is_ignored()
    {
        var (admin, _) = await fixture.NewOrganisationAsync("Audited refusals");
        var (readOnly, readOnlyId) = await fixture.NewKeyAsync(admin, KeyRoles.ReadOnly);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/links")
        {
            Content = JsonContent.Create(new { upstream = "http://127.0.0.1:9/a", price = "0.01", payTo = AccessFixture.PayTo }),
        };
        // Not behind Front Door here: a client's X-Azure-ClientIP could name anyone, so the connection's address is recorded.
        request.Headers.Add("X-Azure-ClientIP", "203.0.113.7");
        using var refused = await readOnly.SendAsync(request);
        await ProblemAssert.IsAsync(refused, 403, "forbidden_for_role");

        var entry = Assert.Single(await EntriesAsync(admin, "?action=link.create"));
        Assert.Equal(("denied", 403), (entry.GetProperty("outcome").GetString(), entry.GetProperty("status").GetInt32()));
        Assert.Equal(readOnlyId, entry.GetProperty("actor").GetProperty("id").GetString());
        Assert.Equal("127.0.0.1", entry.GetProperty("clientAddress").GetString());
        // Reading is not an action: the read-only key's own GETs left nothing.
        Assert.Equal(2, (await EntriesAsync(readOnly)).Count);
    }

    [Fact]
    public async Task One_organisation_never_sees_anothers_audit_log()
    {
        var (alice, _) = await fixture.NewOrganisationAsync("Alice audit");
        var (bob, _) = await fixture.NewOrganisationAsync("Bob audit");
        var (id, _) = await fixture.Gateway.CreateLinkAsync(new { upstream = "http://127.0.0.1:9/a", price = "0.01", payTo = AccessFixture.PayTo }, alice);

        Assert.Empty(await EntriesAsync(bob));
        Assert.Empty(await EntriesAsync(bob, "?targetId=" + id));
        Assert.DoesNotContain(id, await bob.GetStringAsync("/api/audit.csv"), StringComparison.Ordinal);
        Assert.Single(await EntriesAsync(alice, "?targetId=" + id));
    }

    [Fact]
    public async Task Pages_follow_the_cursor_and_bad_queries_are_400_problems()
    {
        var (admin, _) = await fixture.NewOrganisationAsync("Audit pages");
        for (var i = 0; i < 3; i++)
        {
            await fixture.Gateway.CreateLinkAsync(new { upstream = "http://127.0.0.1:9/a", price = "0.01", payTo = AccessFixture.PayTo, name = "L" + i }, admin);
        }
        var first = await admin.GetFromJsonAsync<JsonElement>("/api/audit?limit=2");
        Assert.Equal(2, first.GetProperty("items").GetArrayLength());
        var next = first.GetProperty("next").GetString();
        var second = await admin.GetFromJsonAsync<JsonElement>($"/api/audit?limit=2&after={next}");
        Assert.Equal(1, second.GetProperty("items").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, second.GetProperty("next").ValueKind);

        foreach (var bad in new[] { "?limit=0", "?limit=201", "?after=' or 1 eq 1", "?after=9999", "?action=" + new string('a', 201) })
        {
            using var response = await admin.GetAsync("/api/audit" + bad);
            await ProblemAssert.IsAsync(response, 400, "invalid_query", bad);
        }
    }

    [Theory]
    [InlineData("=HYPERLINK(\"evil.example\",\"x\")")]
    [InlineData("+1+cmd|' -C calc'!A0")]
    [InlineData("-2+3")]
    [InlineData("@SUM(A1:A2)")]
    public async Task The_csv_defuses_formulas_in_recorded_values(string name)
    {
        var (admin, _) = await fixture.NewOrganisationAsync("CSV " + name.Length);
        // A target id comes from the caller's URL: it is recorded as sent, and leads its own CSV cell.
        using (var delete = await admin.DeleteAsync("/api/links/" + Uri.EscapeDataString(name)))
        {
            Assert.Equal(HttpStatusCode.NotFound, delete.StatusCode);
        }
        Assert.Equal(name, Assert.Single(await EntriesAsync(admin, "?action=link.delete")).GetProperty("targetId").GetString());

        using var response = await admin.GetAsync("/api/audit.csv?action=link.delete");
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        var lines = (await response.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("at,id,actor_kind,actor_id,actor_label,actor_role,action,target_type,target_id,", lines[0], StringComparison.Ordinal);
        var row = Assert.Single(lines[1..]);
        var cells = ParseCsvRow(row);
        Assert.Equal(14, cells.Count);
        Assert.Equal("'" + name, cells[8]);
        Assert.All(cells, c => Assert.False(c.Length > 0 && "=+-@".Contains(c[0], StringComparison.Ordinal), c));
    }

    /// <summary>RFC 4180 cells of one row (quoted cells may hold commas and doubled quotes).</summary>
    private static List<string> ParseCsvRow(string row)
    {
        var cells = new List<string>();
        var cell = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < row.Length; i++)
        {
            var c = row[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < row.Length && row[i + 1] == '"')
                {
                    cell.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    cell.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                cells.Add(cell.ToString());
                cell.Clear();
            }
            else
            {
                cell.Append(c);
            }
        }
        cells.Add(cell.ToString());
        return cells;
    }
}
