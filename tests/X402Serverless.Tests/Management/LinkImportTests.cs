using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using X402Serverless.Core.Ledger;
using X402Serverless.Core.Links;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Management;
using X402Serverless.Tests.Credits;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.Management.OpenApiOperationsTests;

namespace X402Serverless.Tests.Management;

/// <summary>POST /api/links/import through a real gateway: the links it makes, what it refuses, and paying through one.</summary>
public sealed class LinkImportTests(CreditsFixture fixture) : IClassFixture<CreditsFixture>, IAsyncLifetime
{
    private const string PayTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";
    private GatewayHost Gateway => fixture.Gateway;
    private Microsoft.AspNetCore.Builder.WebApplication? _documents;
    private string _documentsUrl = "";

    public async Task InitializeAsync() =>
        (_documents, _documentsUrl) = await LoopbackApp.StartAsync(app =>
        {
            app.MapGet("/petstore.json", () => Results.Text(Petstore("json"), "application/json"));
            app.MapGet("/relative/openapi.yaml", () => Results.Text(Petstore("yaml").Replace("http://petstore.swagger.io/v1", "/ok/relative-base"), "application/yaml"));
            app.MapGet("/huge.yaml", () => Results.Text(Petstore("yaml") + "\n# " + new string('x', 1_100_000) + "\n", "application/yaml"));
            app.MapGet("/moved.json", () => Results.Redirect("/petstore.json"));
        });

    public async Task DisposeAsync() => await _documents!.DisposeAsync();

    private string NewBase() => $"{fixture.Upstream.BaseUrl}/ok/{Guid.NewGuid():N}";

    private static Dictionary<string, object?> Import(string document, string upstreamBase, object? prices = null) => new()
    {
        ["document"] = document,
        ["upstreamBase"] = upstreamBase,
        ["defaultPrice"] = "0.02",
        ["prices"] = prices ?? new Dictionary<string, string> { ["listPets"] = "0.01", ["GET /pets/{petId}"] = "0.03" },
        ["payTo"] = PayTo,
        ["accepts"] = new[] { "x402", "credits" },
        ["listed"] = true,
        ["category"] = "Animals",
    };

    private static async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(HttpClient api, object body)
    {
        using var response = await api.PostAsJsonAsync("/api/links/import", body);
        return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    private static async Task<List<JsonElement>> LinksAsync(HttpClient api) =>
        (await api.GetFromJsonAsync<JsonElement>("/api/links")).GetProperty("items").EnumerateArray().ToList();

    private static JsonElement Operation(JsonElement report, string key) =>
        report.GetProperty("operations").EnumerateArray().Single(o => o.GetProperty("operation").GetString() == key);

    [Theory]
    [InlineData("yaml")]
    [InlineData("json")]
    public async Task The_petstore_becomes_one_priced_listed_link_per_operation_in_discovery_and_openapi(string format)
    {
        using var api = await fixture.NewOrganisationAsync();
        var upstreamBase = NewBase();

        var (status, report) = await PostAsync(api, Import(Petstore(format), upstreamBase + "/"));

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal(3, report.GetProperty("created").GetInt32());
        Assert.Equal(upstreamBase, report.GetProperty("upstreamBase").GetString());
        var expected = new Dictionary<string, (string Method, string Upstream, string Price, string Name)>
        {
            ["listPets"] = ("GET", upstreamBase + "/pets", "0.01", "List all pets"),
            ["createPets"] = ("POST", upstreamBase + "/pets", "0.02", "Create a pet"),
            ["showPetById"] = ("GET", upstreamBase + "/pets", "0.03", "Info for a specific pet"),
        };
        var links = await LinksAsync(api);
        Assert.Equal(3, links.Count);
        foreach (var (key, want) in expected)
        {
            var item = Operation(report, key);
            Assert.Equal("created", item.GetProperty("status").GetString());
            var id = item.GetProperty("linkId").GetString();
            var link = links.Single(l => l.GetProperty("id").GetString() == id);
            Assert.Equal(want.Upstream, link.GetProperty("upstream").GetString());
            Assert.Equal([want.Method], link.GetProperty("methods").EnumerateArray().Select(m => m.GetString()));
            Assert.Equal(want.Price, link.GetProperty("price").GetString());
            Assert.Equal(want.Name, link.GetProperty("name").GetString());
            Assert.True(link.GetProperty("listed").GetBoolean());
            Assert.Equal(["pets"], link.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
            Assert.Equal("Animals", link.GetProperty("category").GetString());
            Assert.Equal(PayTo, link.GetProperty("payTo").GetString());
        }
        var show = links.Single(l => l.GetProperty("id").GetString() == Operation(report, "showPetById").GetProperty("linkId").GetString());
        Assert.Equal("integer", show.GetProperty("outputSchema").GetProperty("properties").GetProperty("id").GetProperty("type").GetString());
        var list = links.Single(l => l.GetProperty("id").GetString() == Operation(report, "listPets").GetProperty("linkId").GetString());
        Assert.Equal(100, list.GetProperty("inputSchema").GetProperty("properties").GetProperty("limit").GetProperty("maximum").GetInt32());

        using var anyone = Gateway.Client();
        var discovery = await anyone.GetFromJsonAsync<JsonElement>("/discovery/resources?limit=100");
        var resources = discovery.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("resource").GetString()!).ToList();
        var openApi = (await anyone.GetFromJsonAsync<JsonElement>("/openapi.json")).GetProperty("paths");
        foreach (var link in links)
        {
            var id = link.GetProperty("id").GetString()!;
            Assert.Contains(resources, r => r.EndsWith($"/l/{id}", StringComparison.Ordinal));
            Assert.True(openApi.TryGetProperty($"/l/{id}", out _), $"/openapi.json lacks /l/{id}");
        }
    }

    [Fact]
    public async Task A_dry_run_creates_nothing_and_importing_the_same_document_twice_adds_no_duplicates()
    {
        using var api = await fixture.NewOrganisationAsync();
        var body = Import(Petstore("json"), NewBase());
        body["dryRun"] = true;

        var (planStatus, plan) = await PostAsync(api, body);
        Assert.Equal(HttpStatusCode.OK, planStatus);
        Assert.True(plan.GetProperty("dryRun").GetBoolean());
        Assert.All(plan.GetProperty("operations").EnumerateArray(), o => Assert.Equal("planned", o.GetProperty("status").GetString()));
        Assert.Equal("0.03", Operation(plan, "showPetById").GetProperty("price").GetString());
        Assert.Empty(await LinksAsync(api));

        body["dryRun"] = false;
        var (firstStatus, first) = await PostAsync(api, body);
        Assert.Equal(HttpStatusCode.Created, firstStatus);
        var (againStatus, again) = await PostAsync(api, body);

        Assert.Equal(HttpStatusCode.OK, againStatus);
        Assert.Equal(0, again.GetProperty("created").GetInt32());
        Assert.Equal(3, again.GetProperty("existing").GetInt32());
        foreach (var key in new[] { "listPets", "createPets", "showPetById" })
        {
            Assert.Equal("exists", Operation(again, key).GetProperty("status").GetString());
            Assert.Equal(Operation(first, key).GetProperty("linkId").GetString(), Operation(again, key).GetProperty("linkId").GetString());
        }
        Assert.Equal(3, (await LinksAsync(api)).Count);
    }

    [Fact]
    public async Task Invalid_operations_are_422_per_operation_and_nothing_is_created_unless_skipped()
    {
        using var api = await fixture.NewOrganisationAsync();
        var body = Import(Petstore("yaml"), NewBase(), new Dictionary<string, string> { ["listPets"] = "0.01", ["showPetById"] = "0.0000001" });
        body.Remove("defaultPrice");

        using var response = await api.PostAsJsonAsync("/api/links/import", body);
        var problem = await ProblemAsync(response, HttpStatusCode.UnprocessableEntity, "invalid_operations");

        var errors = problem.GetProperty("errors").EnumerateArray().ToList();
        Assert.Contains(errors, e => e.GetProperty("operation").GetString() == "createPets" && e.GetProperty("code").GetString() == "invalid_price");
        Assert.Contains(errors, e => e.GetProperty("operation").GetString() == "showPetById" && e.GetProperty("code").GetString() == "price_too_precise");
        Assert.DoesNotContain(errors, e => e.GetProperty("operation").GetString() == "listPets");
        Assert.Equal("not_created", Operation(problem, "listPets").GetProperty("status").GetString());
        Assert.Empty(await LinksAsync(api));

        body["skipInvalid"] = true;
        var (status, report) = await PostAsync(api, body);
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal((1, 2), (report.GetProperty("created").GetInt32(), report.GetProperty("invalid").GetInt32()));
        Assert.Equal("created", Operation(report, "listPets").GetProperty("status").GetString());
        Assert.Single(await LinksAsync(api));
    }

    [Fact]
    public async Task Include_exclude_and_prices_name_operations_and_an_unknown_name_is_refused()
    {
        using var api = await fixture.NewOrganisationAsync();
        var body = Import(Petstore("yaml"), NewBase());
        body["exclude"] = new[] { "POST /pets" };

        var (status, report) = await PostAsync(api, body);
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal(["listPets", "showPetById"], report.GetProperty("operations").EnumerateArray().Select(o => o.GetProperty("operation").GetString()));

        body["include"] = new[] { "deletePet" };
        using var response = await api.PostAsJsonAsync("/api/links/import", body);
        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest, "unknown_operation");
        Assert.Equal("include", problem.GetProperty("errors")[0].GetProperty("field").GetString());
        Assert.Equal(2, (await LinksAsync(api)).Count);
    }

    [Theory]
    [InlineData("openapi: 3.0.0\npaths: [unclosed", "invalid_document")]
    [InlineData("{\"swagger\": \"2.0\", \"info\": {\"title\": \"t\", \"version\": \"1\"}, \"paths\": {}}", null)]
    [InlineData("", "document_required")]
    public async Task A_malformed_document_is_a_400_and_creates_nothing(string document, string? code)
    {
        using var api = await fixture.NewOrganisationAsync();

        using var response = await api.PostAsJsonAsync("/api/links/import", Import(document, NewBase()));

        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest, code);
        Assert.Equal(JsonValueKind.Array, problem.GetProperty("errors").ValueKind);
        Assert.Empty(await LinksAsync(api));
    }

    [Fact]
    public async Task A_document_over_a_megabyte_is_refused_pasted_or_fetched()
    {
        using var api = await fixture.NewOrganisationAsync();
        var huge = Petstore("yaml") + "\n# " + new string('x', 1_100_000) + "\n";

        using (var pasted = await api.PostAsJsonAsync("/api/links/import", Import(huge, NewBase())))
        {
            await ProblemAsync(pasted, HttpStatusCode.BadRequest, "document_too_large");
        }
        var fetched = Import("", NewBase());
        fetched.Remove("document");
        fetched["documentUrl"] = _documentsUrl + "/huge.yaml";
        using (var response = await api.PostAsJsonAsync("/api/links/import", fetched))
        {
            await ProblemAsync(response, HttpStatusCode.BadRequest, "document_too_large");
        }
        Assert.Empty(await LinksAsync(api));
    }

    [Fact]
    public async Task A_document_url_is_fetched_and_its_relative_server_resolves_against_it()
    {
        using var api = await fixture.NewOrganisationAsync();
        var body = Import("", NewBase());
        body.Remove("document");
        body["documentUrl"] = _documentsUrl + "/petstore.json";

        var (status, report) = await PostAsync(api, body);
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal(3, report.GetProperty("created").GetInt32());

        body.Remove("upstreamBase");
        body["documentUrl"] = _documentsUrl + "/relative/openapi.yaml";
        var (relativeStatus, relative) = await PostAsync(api, body);
        Assert.Equal(HttpStatusCode.Created, relativeStatus);
        Assert.Equal(_documentsUrl + "/ok/relative-base", relative.GetProperty("upstreamBase").GetString());
    }

    [Theory]
    [InlineData("http://169.254.169.254/latest/openapi.json", "upstream_address_refused")]
    [InlineData("http://10.0.0.7/openapi.yaml", "upstream_address_refused")]
    [InlineData("http://[::ffff:169.254.169.254]/openapi.yaml", "upstream_address_refused")]
    [InlineData("file:///etc/passwd", "invalid_document_url")]
    [InlineData("http://user:pw@127.0.0.1/x", "invalid_document_url")]
    public async Task A_document_url_to_a_refused_address_is_never_fetched(string url, string code)
    {
        using var api = await fixture.NewOrganisationAsync();
        var body = Import("", NewBase());
        body.Remove("document");
        body["documentUrl"] = url;

        using var response = await api.PostAsJsonAsync("/api/links/import", body);

        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest, code);
        Assert.Equal("documentUrl", problem.GetProperty("errors")[0].GetProperty("field").GetString());
        Assert.Empty(await LinksAsync(api));
    }

    [Fact]
    public async Task A_document_url_that_redirects_is_not_followed()
    {
        using var api = await fixture.NewOrganisationAsync();
        var body = Import("", NewBase());
        body.Remove("document");
        body["documentUrl"] = _documentsUrl + "/moved.json";

        using var response = await api.PostAsJsonAsync("/api/links/import", body);

        await ProblemAsync(response, HttpStatusCode.BadRequest, "document_unreachable");
    }

    [Fact]
    public async Task An_imported_upstream_to_a_refused_address_is_refused_per_operation()
    {
        using var api = await fixture.NewOrganisationAsync();

        using var response = await api.PostAsJsonAsync("/api/links/import", Import(Petstore("yaml"), "http://169.254.169.254/v1"));

        var problem = await ProblemAsync(response, HttpStatusCode.UnprocessableEntity, "invalid_operations");
        Assert.Equal(3, problem.GetProperty("errors").EnumerateArray().Count(e => e.GetProperty("code").GetString() == "upstream_address_refused"));
        Assert.Empty(await LinksAsync(api));
    }

    [Fact]
    public async Task Another_organisation_cannot_see_or_reuse_the_imported_links()
    {
        using var owner = await fixture.NewOrganisationAsync();
        using var other = await fixture.NewOrganisationAsync();
        var body = Import(Petstore("yaml"), NewBase());
        var (_, report) = await PostAsync(owner, body);
        var id = Operation(report, "listPets").GetProperty("linkId").GetString();

        using (var foreign = await other.GetAsync($"/api/links/{id}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
        }
        Assert.Empty(await LinksAsync(other));
        // The same document in another organisation makes that organisation its own links, not a view of the owner's.
        var (status, theirs) = await PostAsync(other, body);
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.NotEqual(id, Operation(theirs, "listPets").GetProperty("linkId").GetString());

        using var anonymous = Gateway.Client();
        using var refused = await anonymous.PostAsJsonAsync("/api/links/import", body);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task A_paid_call_through_an_imported_templated_operation_reaches_the_upstream_path()
    {
        using var api = await fixture.NewOrganisationAsync();
        var upstreamBase = NewBase();
        var (_, report) = await PostAsync(api, Import(Petstore("yaml"), upstreamBase));
        var show = Operation(report, "showPetById").GetProperty("link");
        var payer = await CreditsFixture.NewPayerAsync(api, new { name = "Agent" });
        await fixture.FundAsync(Accounts.Credits(payer.Id), 100_000);

        using var response = await CreditsFixture.CallAsync(show.GetProperty("url").GetString() + "/42", payer.Key);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("credits", response.Headers.GetValues("X-Charged-From").Single());
        var seen = await response.Content.ReadFromJsonAsync<JsonElement>();
        var path = new Uri(upstreamBase).AbsolutePath + "/pets/42";
        Assert.Equal(path, seen.GetProperty("path").GetString());
        Assert.Equal(1, fixture.Upstream.Hits(path));
        Assert.Equal("0.03", response.Headers.GetValues("X-Charged").Single()); // showPetById's own price, not the default
    }

    [Fact]
    public async Task A_store_failure_part_way_reports_what_was_created_and_a_retry_adds_only_the_rest()
    {
        using var api = await fixture.NewOrganisationAsync();
        var organisationId = (await api.GetFromJsonAsync<JsonElement>("/api/organisation")).GetProperty("id").GetString()!;
        var services = Gateway.Services.GetRequiredService<LinkServices>();
        var broken = new LinkImporter(services with { Links = new FailingAfter(services.Links, 1) }, Gateway.Services.GetRequiredService<OpenApiDocumentFetcher>());
        var request = JsonSerializer.Deserialize(JsonSerializer.Serialize(Import(Petstore("yaml"), NewBase())),
            Handler.Requests.ApiJson.Default.LinkImportRequest)!;

        var outcome = await broken.ImportAsync(organisationId, request, "http://gateway.test", default);

        Assert.Equal(ImportResultKind.Incomplete, outcome.Kind);
        Assert.Equal(["created", "not_created", "not_created"], outcome.Report!.Operations.Select(o => o.Status));
        Assert.Single(await LinksAsync(api));
        var retry = await Gateway.Services.GetRequiredService<LinkImporter>().ImportAsync(organisationId, request, "http://gateway.test", default);
        Assert.Equal(["exists", "created", "created"], retry.Report!.Operations.Select(o => o.Status));
        Assert.Equal(3, (await LinksAsync(api)).Count);
    }

    /// <summary>The response is a problem with this status (and code, when given); returns its body.</summary>
    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status, string? code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status} {code}; got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonDocument.Parse(text).RootElement;
        if (code is not null)
        {
            Assert.Equal(code, body.GetProperty("code").GetString());
        }
        return body;
    }

    /// <summary>A link store whose writes fail after the first <paramref name="writes"/>.</summary>
    private sealed class FailingAfter(ILinkStore inner, int writes) : ILinkStore
    {
        private int _left = writes;

        public Task CreateAsync(PaidLink link, CancellationToken cancellationToken) =>
            Interlocked.Decrement(ref _left) >= 0 ? inner.CreateAsync(link, cancellationToken) : throw new IOException("store unavailable");

        public Task<PaidLink?> FindAsync(string id, CancellationToken cancellationToken) => inner.FindAsync(id, cancellationToken);

        public Task<IReadOnlyList<PaidLink>> ListAsync(string organisationId, CancellationToken cancellationToken) => inner.ListAsync(organisationId, cancellationToken);

        public Task<IReadOnlyList<PaidLink>> ListListedAsync(CancellationToken cancellationToken) => inner.ListListedAsync(cancellationToken);

        public Task<bool> UpdateAsync(PaidLink link, CancellationToken cancellationToken) => inner.UpdateAsync(link, cancellationToken);

        public Task<bool> DeleteAsync(string organisationId, string id, CancellationToken cancellationToken) => inner.DeleteAsync(organisationId, id, cancellationToken);
    }
}
