using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.Management.OpenApiOperationsTests;

namespace X402Serverless.Tests.ProviderConsole;

/// <summary>The console's OpenAPI import form: as a plain form post (no script), and in a real Chromium.</summary>
public sealed class ConsoleImportTests(ConsoleBrowserFixture fixture) : IClassFixture<ConsoleBrowserFixture>
{
    private GatewayHost Gateway => fixture.Gateway;

    private static Dictionary<string, string> Fields(string document, string price) => new()
    {
        ["Input.Document"] = document,
        ["Input.UpstreamBase"] = "http://127.0.0.1:9/petstore",
        ["Input.DefaultPrice"] = price,
        ["Input.PayTo"] = ConsoleFixture.PayTo,
        ["Input.Listed"] = "true",
    };

    private static async Task<List<JsonElement>> LinksAsync(HttpClient api) =>
        (await api.GetFromJsonAsync<JsonElement>("/api/links")).GetProperty("items").EnumerateArray().ToList();

    [Fact]
    public async Task The_form_works_without_script_checks_its_token_and_shows_each_operations_errors()
    {
        var (key, api) = await fixture.NewOrganisationAsync("Form Importer");
        using (api)
        {
            using var session = await ConsoleSession.SignedInAsync(Gateway, key);

            using (var forged = await session.PostFormAsync("/console/links/import", "import-links", Fields(Petstore("yaml"), "0.02"), withToken: false))
            {
                Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
            }
            Assert.Empty(await LinksAsync(api));

            using (var invalid = await session.PostFormAsync("/console/links/import", "import-links", Fields(Petstore("yaml"), "0.0000001")))
            {
                Assert.Equal(HttpStatusCode.UnprocessableEntity, invalid.StatusCode);
                var html = await invalid.Content.ReadAsStringAsync();
                foreach (var operation in new[] { "listPets", "createPets", "showPetById" })
                {
                    Assert.Contains($"data-operation=\"{operation}\" data-status=\"invalid\"", html, StringComparison.Ordinal);
                }
                Assert.Contains("data-code=\"price_too_precise\"", html, StringComparison.Ordinal);
            }
            Assert.Empty(await LinksAsync(api));

            using (var malformed = await session.PostFormAsync("/console/links/import", "import-links", Fields("openapi: [broken", "0.02")))
            {
                Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
                Assert.Contains("data-code=\"invalid_document\"", await malformed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }

            using (var imported = await session.PostFormAsync("/console/links/import", "import-links", Fields(Petstore("json"), "0.02")))
            {
                Assert.Equal(HttpStatusCode.OK, imported.StatusCode);
                var html = await imported.Content.ReadAsStringAsync();
                Assert.Contains("3 links created", html, StringComparison.Ordinal);
                Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
            }
            var links = await LinksAsync(api);
            Assert.Equal(3, links.Count);
            Assert.All(links, l => Assert.Equal("0.02", l.GetProperty("price").GetString()));
            Assert.All(links, l => Assert.True(l.GetProperty("listed").GetBoolean()));
        }
    }

    [Fact]
    public async Task A_provider_imports_the_petstore_in_the_browser_and_finds_its_links()
    {
        var (key, api) = await fixture.NewOrganisationAsync("Browser Importer");
        using (api)
        {
            await fixture.Browser.NavigateAsync(Gateway.BaseUrl + "/console/console.css");
            await fixture.Browser.DeleteCookiesAsync();
            await fixture.Browser.NavigateAsync(Gateway.BaseUrl + "/console/login");
            await fixture.Browser.FillAsync("#key", key);
            await fixture.Browser.ClickAsync("#sign-in");
            await fixture.Browser.ClickAsync("#import-openapi");

            await fixture.Browser.FillAsync("#document", Petstore("json"));
            await fixture.Browser.FillAsync("#upstreamBase", "http://127.0.0.1:9/petstore");
            await fixture.Browser.FillAsync("#defaultPrice", "0.04");
            await fixture.Browser.FillAsync("#payTo", ConsoleFixture.PayTo);
            await fixture.Browser.ClickAsync("#import-links");

            Assert.Contains("3 links created", await fixture.Browser.TextAsync("#import-outcome"), StringComparison.Ordinal);
            Assert.Equal("created", await fixture.Browser.TextAsync("tr[data-operation=showPetById] a"));
            await fixture.Browser.ClickAsync("tr[data-operation=showPetById] a");
            Assert.Equal("0.04", await fixture.Browser.TextAsync("#link-price"));
            var links = await LinksAsync(api);
            Assert.Equal(3, links.Count);
            Assert.All(links, l => Assert.False(l.GetProperty("listed").GetBoolean()));
        }
    }
}
