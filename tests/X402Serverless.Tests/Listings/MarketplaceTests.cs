using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using X402Serverless.Tests.Support;

namespace X402Serverless.Tests.Listings;

/// <summary>Listing links through the API and what the public then sees: the catalogue, discovery and /openapi.json.</summary>
public sealed class MarketplaceTests(MarketplaceFixture fixture) : IClassFixture<MarketplaceFixture>
{
    private const string PayTo = MarketplaceFixture.PayTo;
    private const string Secret = "sk-upstream-secret-7f3a9";
    private GatewayHost Gateway => fixture.Gateway;

    private static object Listed(string name, string price = "0.05") => new
    {
        upstream = "http://127.0.0.1:9/private-upstream-path/v1",
        price,
        payTo = PayTo,
        name,
        description = "Forecasts for any city",
        methods = new[] { "GET" },
        accepts = new[] { "x402", "credits" },
        upstreamHeaders = new Dictionary<string, string> { ["X-Upstream-Key"] = Secret },
        listed = true,
        tags = new[] { "Weather", "forecast" },
        category = "Data",
        exampleRequest = "GET /today?city=Oslo",
        inputSchema = new { type = "object", properties = new { city = new { type = "string" } }, required = new[] { "city" } },
        outputSchema = new { type = "object", properties = new { temperature = new { type = "number" } } },
    };

    [Fact]
    public async Task A_disabled_link_leaves_the_catalogue_discovery_and_openapi_and_comes_back_when_enabled()
    {
        var (_, api) = await fixture.NewOrganisationAsync("Switchable Co");
        var (_, stranger) = await fixture.NewOrganisationAsync("Switch intruder");
        using (api)
        using (stranger)
        {
            var (id, url) = await Gateway.CreateLinkAsync(Listed("Switchable Forecast"), api);
            Assert.Contains(id, await fixture.EverythingPublicAsync(id), StringComparison.Ordinal);

            using (var foreign = await stranger.PatchAsJsonAsync($"/api/links/{id}", new { disabled = true }))
            {
                Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
            }
            Assert.Contains(await fixture.AllDiscoveryItemsAsync(), i => i.GetProperty("resource").GetString() == url);

            (await api.PatchAsJsonAsync($"/api/links/{id}", new { disabled = true })).EnsureSuccessStatusCode();
            var everything = await fixture.EverythingPublicAsync();
            Assert.DoesNotContain(id, everything, StringComparison.Ordinal);
            Assert.DoesNotContain("Switchable Forecast", everything, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.NotFound, (await fixture.HtmlAsync($"/apis/{id}")).Response.StatusCode);
            // Still listed as far as its owner's settings go: enabling needs only the one flag.
            var view = await api.GetFromJsonAsync<JsonElement>($"/api/links/{id}");
            Assert.True(view.GetProperty("listed").GetBoolean());
            Assert.True(view.GetProperty("disabled").GetBoolean());

            (await api.PatchAsJsonAsync($"/api/links/{id}", new { disabled = false })).EnsureSuccessStatusCode();
            Assert.Contains(await fixture.AllDiscoveryItemsAsync(), i => i.GetProperty("resource").GetString() == url);
            Assert.Contains("Switchable Forecast", await fixture.EverythingPublicAsync(id), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_listed_link_appears_in_the_catalogue_discovery_and_openapi_and_unlisting_hides_it_everywhere()
    {
        var (_, api) = await fixture.NewOrganisationAsync("Acme Weather Co");
        using (api)
        {
            var (id, url) = await Gateway.CreateLinkAsync(Listed("Acme Forecast"), api);
            var (hidden, _) = await Gateway.CreateLinkAsync(new { upstream = "http://127.0.0.1:9/hidden", price = "0.07", payTo = PayTo, name = "Hidden Thing" }, api);

            var view = await api.GetFromJsonAsync<JsonElement>($"/api/links/{id}");
            Assert.True(view.GetProperty("listed").GetBoolean());
            Assert.Equal(["weather", "forecast"], view.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
            Assert.Equal("Data", view.GetProperty("category").GetString());
            Assert.Equal("GET /today?city=Oslo", view.GetProperty("exampleRequest").GetString());
            Assert.Equal("string", view.GetProperty("inputSchema").GetProperty("properties").GetProperty("city").GetProperty("type").GetString());
            Assert.Equal("number", view.GetProperty("outputSchema").GetProperty("properties").GetProperty("temperature").GetProperty("type").GetString());

            var (page, html) = await fixture.HtmlAsync("/");
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.StartsWith("text/html", page.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
            Assert.Contains($"id=\"api-{id}\"", html, StringComparison.Ordinal);
            Assert.Contains("Acme Forecast", html, StringComparison.Ordinal);
            Assert.Contains("$0.05 per call", html, StringComparison.Ordinal);
            Assert.Contains("by Acme Weather Co", html, StringComparison.Ordinal);
            Assert.Contains("base-sepolia (eip155:84532)", html, StringComparison.Ordinal);
            Assert.Contains("x402, credits", html, StringComparison.Ordinal);
            Assert.DoesNotContain(hidden, html, StringComparison.Ordinal);
            Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("default-src 'none'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);

            var (detail, apiPage) = await fixture.HtmlAsync($"/apis/{id}");
            Assert.Equal(HttpStatusCode.OK, detail.StatusCode);
            Assert.Contains($"curl -i {url}", apiPage, StringComparison.Ordinal);
            Assert.Contains("Authorization: Bearer x402pk_...", WebUtility.HtmlDecode(apiPage), StringComparison.Ordinal);
            Assert.Contains($"href=\"{url}\"", apiPage, StringComparison.Ordinal);
            Assert.Contains("GET /today?city=Oslo", apiPage, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.NotFound, (await fixture.HtmlAsync($"/apis/{hidden}")).Response.StatusCode);

            var item = Assert.Single(await fixture.AllDiscoveryItemsAsync(), i => i.GetProperty("resource").GetString() == url);
            Assert.Equal($"{MarketplaceFixture.PublicBase}/l/{id}", url);
            Assert.Equal("http", item.GetProperty("type").GetString());
            Assert.Equal(2, item.GetProperty("x402Version").GetInt32());
            Assert.True(DateTimeOffset.TryParse(item.GetProperty("lastUpdated").GetString(), out _));
            var metadata = item.GetProperty("metadata");
            Assert.Equal("Acme Forecast", metadata.GetProperty("name").GetString());
            Assert.Equal("Forecasts for any city", metadata.GetProperty("description").GetString());
            Assert.Equal("Data", metadata.GetProperty("category").GetString());
            Assert.Equal("Acme Weather Co", metadata.GetProperty("provider").GetString());
            Assert.Equal(["weather", "forecast"], metadata.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
            Assert.Equal("object", metadata.GetProperty("inputSchema").GetProperty("type").GetString());
            Assert.Equal("object", metadata.GetProperty("outputSchema").GetProperty("type").GetString());
            // The accepts are exactly what the link's own 402 offers (v2 PAYMENT-REQUIRED).
            using (var unpaid = await Gateway.Client().GetAsync($"/l/{id}"))
            {
                Assert.Equal(HttpStatusCode.PaymentRequired, unpaid.StatusCode);
                var required = JsonNode.Parse(Convert.FromBase64String(unpaid.Headers.GetValues("PAYMENT-REQUIRED").Single()))!;
                Assert.True(JsonNode.DeepEquals(required["accepts"], JsonNode.Parse(item.GetProperty("accepts").GetRawText())));
            }

            var openApi = await fixture.JsonAsync("/openapi.json");
            Assert.Equal("3.1.0", openApi.GetProperty("openapi").GetString());
            Assert.Equal(MarketplaceFixture.PublicBase, openApi.GetProperty("servers")[0].GetProperty("url").GetString());
            var path = openApi.GetProperty("paths").GetProperty($"/l/{id}");
            var get = path.GetProperty("get");
            Assert.False(path.TryGetProperty("post", out _)); // the link takes GET only
            Assert.Equal("0.05", get.GetProperty("x-x402-price").GetString());
            Assert.Equal("Acme Forecast", get.GetProperty("summary").GetString());
            var parameter = Assert.Single(get.GetProperty("parameters").EnumerateArray());
            Assert.Equal("city", parameter.GetProperty("name").GetString());
            Assert.True(parameter.GetProperty("required").GetBoolean());
            Assert.Equal("number", get.GetProperty("responses").GetProperty("200").GetProperty("content").GetProperty("application/json")
                .GetProperty("schema").GetProperty("properties").GetProperty("temperature").GetProperty("type").GetString());
            Assert.True(get.GetProperty("responses").TryGetProperty("402", out _));
            Assert.Equal(PayTo, get.GetProperty("x-x402-accepts")[0].GetProperty("payTo").GetString());
            Assert.False(openApi.GetProperty("paths").TryGetProperty($"/l/{hidden}", out _));

            var everything = await fixture.EverythingPublicAsync(id);
            foreach (var secret in new[] { Secret, "X-Upstream-Key", "private-upstream-path", "127.0.0.1:9", "hidden", "Hidden Thing", "sealed" })
            {
                Assert.DoesNotContain(secret, everything, StringComparison.OrdinalIgnoreCase);
            }

            using (var unlist = await api.PatchAsJsonAsync($"/api/links/{id}", new { listed = false }))
            {
                Assert.Equal(HttpStatusCode.OK, unlist.StatusCode);
            }
            everything = await fixture.EverythingPublicAsync();
            Assert.DoesNotContain(id, everything, StringComparison.Ordinal);
            Assert.DoesNotContain("Acme Forecast", everything, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.NotFound, (await fixture.HtmlAsync($"/apis/{id}")).Response.StatusCode);
            // Unlisting keeps what was written, so listing again needs only the flag.
            var kept = await api.GetFromJsonAsync<JsonElement>($"/api/links/{id}");
            Assert.Equal("Data", kept.GetProperty("category").GetString());
            using (var relist = await api.PatchAsJsonAsync($"/api/links/{id}", new { listed = true }))
            {
                Assert.Equal(HttpStatusCode.OK, relist.StatusCode);
            }
            Assert.Contains(await fixture.AllDiscoveryItemsAsync(), i => i.GetProperty("resource").GetString() == url);

            using (var delete = await api.DeleteAsync($"/api/links/{id}"))
            {
                Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
            }
            Assert.DoesNotContain(id, await fixture.EverythingPublicAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task One_organisations_listings_do_not_touch_anothers()
    {
        var (_, first) = await fixture.NewOrganisationAsync("First Provider");
        var (_, second) = await fixture.NewOrganisationAsync("Second Provider");
        using (first)
        using (second)
        {
            var (mine, _) = await Gateway.CreateLinkAsync(Listed("First API", "0.01"), first);
            var (theirs, _) = await Gateway.CreateLinkAsync(Listed("Second API", "0.02"), second);

            // Another organisation can neither unlist nor relabel a link it does not own.
            using (var foreign = await first.PatchAsJsonAsync($"/api/links/{theirs}", new { listed = false, name = "Hijacked" }))
            {
                Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
            }
            using (var own = await first.PatchAsJsonAsync($"/api/links/{mine}", new { listed = false }))
            {
                Assert.Equal(HttpStatusCode.OK, own.StatusCode);
            }
            var html = (await fixture.HtmlAsync("/")).Body;
            Assert.DoesNotContain(mine, html, StringComparison.Ordinal);
            Assert.Contains($"id=\"api-{theirs}\"", html, StringComparison.Ordinal);
            Assert.Contains("by Second Provider", html, StringComparison.Ordinal);
            Assert.DoesNotContain("Hijacked", html, StringComparison.Ordinal);
            Assert.Contains(await fixture.AllDiscoveryItemsAsync(), i => i.GetProperty("metadata").GetProperty("name").GetString() == "Second API");
        }
    }

    [Fact]
    public async Task Search_tag_and_category_filter_the_catalogue()
    {
        var unique = "zq" + Guid.NewGuid().ToString("N")[..8];
        var (a, _) = await Gateway.CreateLinkAsync(new { upstream = "http://127.0.0.1:9/a", price = "0.01", payTo = PayTo, name = $"Translate {unique}", listed = true, tags = new[] { unique }, category = "Language" });
        var (b, _) = await Gateway.CreateLinkAsync(new { upstream = "http://127.0.0.1:9/b", price = "0.01", payTo = PayTo, name = $"Geocode {unique}", listed = true, category = "Maps" });

        var byText = (await fixture.HtmlAsync($"/?q=translate+{unique}")).Body;
        Assert.Contains($"api-{a}", byText, StringComparison.Ordinal);
        Assert.DoesNotContain($"api-{b}", byText, StringComparison.Ordinal);
        Assert.Contains("1 API<", byText, StringComparison.Ordinal);

        var byTag = (await fixture.HtmlAsync($"/?tag={unique}")).Body;
        Assert.Contains($"api-{a}", byTag, StringComparison.Ordinal);
        Assert.DoesNotContain($"api-{b}", byTag, StringComparison.Ordinal);

        var byCategory = (await fixture.HtmlAsync($"/?category=maps&q={unique}")).Body;
        Assert.Contains($"api-{b}", byCategory, StringComparison.Ordinal);
        Assert.DoesNotContain($"api-{a}", byCategory, StringComparison.Ordinal);

        var none = (await fixture.HtmlAsync("/?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E")).Body;
        Assert.Contains("0 APIs", none, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", none, StringComparison.Ordinal); // the query is echoed encoded
    }

    [Fact]
    public async Task Discovery_pages_with_limit_and_offset_and_refuses_bad_values_with_problems()
    {
        var before = (await fixture.JsonAsync("/discovery/resources")).GetProperty("pagination").GetProperty("total").GetInt32();
        var created = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            created.Add((await Gateway.CreateLinkAsync(new { upstream = "http://127.0.0.1:9/p", price = "0.01", payTo = PayTo, name = $"Paged {i}", listed = true })).Url);
        }
        var total = before + 3;

        var first = await fixture.JsonAsync("/discovery/resources");
        Assert.Equal(2, first.GetProperty("x402Version").GetInt32());
        Assert.Equal(20, first.GetProperty("pagination").GetProperty("limit").GetInt32());
        Assert.Equal(0, first.GetProperty("pagination").GetProperty("offset").GetInt32());
        Assert.Equal(total, first.GetProperty("pagination").GetProperty("total").GetInt32());

        // Walking by 2 sees every item exactly once, oldest first, so the three new ones come last.
        var seen = new List<string>();
        for (var offset = 0; offset < total; offset += 2)
        {
            var page = await fixture.JsonAsync($"/discovery/resources?type=http&limit=2&offset={offset}");
            Assert.Equal(2, page.GetProperty("pagination").GetProperty("limit").GetInt32());
            Assert.Equal(offset, page.GetProperty("pagination").GetProperty("offset").GetInt32());
            Assert.Equal(Math.Min(2, total - offset), page.GetProperty("items").GetArrayLength());
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("resource").GetString()!));
        }
        Assert.Equal(total, seen.Distinct().Count());
        Assert.Equal(created, seen.TakeLast(3));

        Assert.Equal(1, (await fixture.JsonAsync("/discovery/resources?limit=1")).GetProperty("items").GetArrayLength());
        Assert.Equal(Math.Min(100, total), (await fixture.JsonAsync("/discovery/resources?limit=100")).GetProperty("items").GetArrayLength());
        var past = await fixture.JsonAsync($"/discovery/resources?offset={total}");
        Assert.Equal(0, past.GetProperty("items").GetArrayLength());
        Assert.Equal(total, past.GetProperty("pagination").GetProperty("total").GetInt32());
        var mcp = await fixture.JsonAsync("/discovery/resources?type=mcp");
        Assert.Equal(0, mcp.GetProperty("pagination").GetProperty("total").GetInt32());

        foreach (var (query, code) in new[]
        {
            ("limit=0", "invalid_limit"), ("limit=101", "invalid_limit"), ("limit=-1", "invalid_limit"), ("limit=abc", "invalid_limit"),
            ("limit=1.5", "invalid_limit"), ("limit=99999999999999999999", "invalid_limit"), ("offset=-1", "invalid_offset"), ("offset=x", "invalid_offset"),
        })
        {
            using var http = Gateway.Client();
            using var response = await http.GetAsync($"/discovery/resources?{query}");
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(code, problem.GetProperty("code").GetString());
            Assert.Equal(code, problem.GetProperty("errors")[0].GetProperty("code").GetString());
        }
    }

    [Theory]
    [InlineData("/", true)]
    [InlineData("/discovery/resources?limit=100", false)]
    [InlineData("/openapi.json", false)]
    [InlineData("/reference", true)]
    public async Task Public_documents_carry_an_etag_answer_304_to_it_and_change_it_when_a_listing_changes(string path, bool html)
    {
        var (id, _) = await Gateway.CreateLinkAsync(new { upstream = "http://127.0.0.1:9/e", price = "0.01", payTo = PayTo, name = "ETag API", listed = true });
        var (first, body) = html ? await fixture.HtmlAsync(path) : await JsonGetAsync(path, null);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var etag = first.Headers.ETag!.Tag;
        Assert.False(first.Headers.ETag.IsWeak);
        Assert.Contains("no-cache", first.Headers.CacheControl!.ToString(), StringComparison.Ordinal);

        var (again, againBody) = html ? await fixture.HtmlAsync(path, etag) : await JsonGetAsync(path, etag);
        Assert.Equal(HttpStatusCode.NotModified, again.StatusCode);
        Assert.Equal("", againBody);
        Assert.Equal(etag, again.Headers.ETag!.Tag);

        using (var change = await Gateway.Admin.PatchAsJsonAsync($"/api/links/{id}", new { price = "0.02", name = "ETag API v2" }))
        {
            Assert.Equal(HttpStatusCode.OK, change.StatusCode);
        }
        var (changed, changedBody) = html ? await fixture.HtmlAsync(path, etag) : await JsonGetAsync(path, etag);
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.NotEqual(etag, changed.Headers.ETag!.Tag);
        Assert.NotEqual(body, changedBody);
    }

    [Theory]
    [InlineData("/openapi.json", false)]
    [InlineData("/reference", true)]
    [InlineData("/", true)]
    public async Task A_client_taking_gzip_gets_the_same_document_compressed_with_an_etag_of_its_own(string path, bool html)
    {
        await Gateway.CreateLinkAsync(new { upstream = "http://127.0.0.1:9/z", price = "0.01", payTo = PayTo, name = "Gzip API", listed = true, description = new string('d', 1500) });
        using var http = Gateway.Client();
        async Task<HttpResponseMessage> GetAsync(string? acceptEncoding, string? ifNoneMatch = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            if (html)
            {
                request.Headers.Accept.ParseAdd("text/html");
            }
            if (acceptEncoding is not null)
            {
                request.Headers.TryAddWithoutValidation("Accept-Encoding", acceptEncoding);
            }
            if (ifNoneMatch is not null)
            {
                request.Headers.IfNoneMatch.Add(System.Net.Http.Headers.EntityTagHeaderValue.Parse(ifNoneMatch));
            }
            return await http.SendAsync(request);
        }

        using var plain = await GetAsync(null);
        var plainBytes = await plain.Content.ReadAsByteArrayAsync();
        using var zipped = await GetAsync("br;q=1.0, gzip;q=0.8");
        Assert.Equal(HttpStatusCode.OK, zipped.StatusCode);
        Assert.Equal(["gzip"], zipped.Content.Headers.ContentEncoding);
        Assert.Contains("Accept-Encoding", zipped.Headers.Vary);
        var compressed = await zipped.Content.ReadAsByteArrayAsync();
        Assert.True(compressed.Length < plainBytes.Length);
        using (var gunzip = new System.IO.Compression.GZipStream(new MemoryStream(compressed), System.IO.Compression.CompressionMode.Decompress))
        using (var unzipped = new MemoryStream())
        {
            await gunzip.CopyToAsync(unzipped);
            Assert.Equal(plainBytes, unzipped.ToArray());
        }
        // A strong ETag names one representation: each answers 304 to its own, not to the other's.
        Assert.NotEqual(plain.Headers.ETag!.Tag, zipped.Headers.ETag!.Tag);
        using (var same = await GetAsync("gzip", zipped.Headers.ETag.Tag))
        {
            Assert.Equal(HttpStatusCode.NotModified, same.StatusCode);
        }
        using (var other = await GetAsync(null, zipped.Headers.ETag.Tag))
        {
            Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        }
        // gzip refused with q=0, or only unknown codings offered: uncompressed.
        foreach (var refusing in new[] { "gzip;q=0", "identity", "compress, nonsense;;q" })
        {
            using var response = await GetAsync(refusing);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Empty(response.Content.Headers.ContentEncoding);
        }
    }

    [Fact]
    public async Task An_api_page_answers_304_to_its_etag()
    {
        var (id, _) = await Gateway.CreateLinkAsync(new { upstream = "http://127.0.0.1:9/p", price = "0.01", payTo = PayTo, name = "Page API", listed = true });
        var (first, _) = await fixture.HtmlAsync($"/apis/{id}");
        var (again, _) = await fixture.HtmlAsync($"/apis/{id}", first.Headers.ETag!.Tag);
        Assert.Equal(HttpStatusCode.NotModified, again.StatusCode);
    }

    [Fact]
    public async Task The_root_still_answers_readiness_to_a_client_that_does_not_ask_for_html()
    {
        using var http = Gateway.Client();
        var root = await http.GetFromJsonAsync<JsonElement>("/");
        Assert.Equal("ok", root.GetProperty("status").GetString());
    }

    public static TheoryData<string, string, string> BadListings() => new()
    {
        { """{"inputSchema":"{not json"}""", "inputSchema", "invalid_schema" },
        { """{"inputSchema":[1,2]}""", "inputSchema", "invalid_schema" },
        { """{"outputSchema":42}""", "outputSchema", "invalid_schema" },
        { """{"outputSchema":"[]"}""", "outputSchema", "invalid_schema" },
        { "{\"inputSchema\":{\"description\":\"" + new string('x', 9000) + "\"}}", "inputSchema", "schema_too_large" },
        { "{\"name\":\"" + new string('n', 201) + "\"}", "name", "too_long" },
        { """{"tags":["a","b","c","d","e","f","g","h","i","j","k"]}""", "tags", "too_many_tags" },
        { """{"tags":["has space"]}""", "tags", "invalid_tag" },
        { """{"tags":[""]}""", "tags", "invalid_tag" },
        { "{\"category\":\"" + new string('c', 65) + "\"}", "category", "too_long" },
        { "{\"exampleRequest\":\"" + new string('e', 2001) + "\"}", "exampleRequest", "too_long" },
        { """{"listed":"yes"}""", "listed", "invalid_type" },
        { """{"tags":"weather"}""", "tags", "invalid_type" },
        { """{"tag":["weather"]}""", "tag", "unknown_field" },
        { """{"listed":true,"name":null}""", "listed", "listing_needs_name" },
        { """{"healthPath":"health"}""", "healthPath", "invalid_health_path" },
        { """{"healthPath":"//evil.example/x"}""", "healthPath", "invalid_health_path" },
        { """{"healthPath":"/a/../../admin"}""", "healthPath", "invalid_health_path" },
        { """{"healthPath":"/%2e%2e/admin"}""", "healthPath", "invalid_health_path" },
        { """{"healthPath":"/a%2fb"}""", "healthPath", "invalid_health_path" },
        { """{"healthPath":"/a\\\\b"}""", "healthPath", "invalid_health_path" },
        { """{"healthPath":"/ok#frag"}""", "healthPath", "invalid_health_path" },
        { """{"healthPath":"/x y"}""", "healthPath", "invalid_health_path" },
        { "{\"healthPath\":\"/" + new string('h', 256) + "\"}", "healthPath", "invalid_health_path" },
        { """{"healthProbe":"on"}""", "healthProbe", "invalid_type" },
    };

    [Theory]
    [MemberData(nameof(BadListings))]
    public async Task Bad_listing_fields_are_refused_with_a_problem_naming_the_field(string fields, string field, string code)
    {
        var body = JsonNode.Parse(fields)!.AsObject();
        body["upstream"] = "http://127.0.0.1:9/v";
        body["price"] = "0.01";
        body["payTo"] = PayTo;
        foreach (var (method, path) in new[] { (HttpMethod.Post, "/api/links"), (HttpMethod.Patch, $"/api/links/{(await Gateway.CreateLinkAsync(new { upstream = "http://127.0.0.1:9/v", price = "0.01", payTo = PayTo })).Id}") })
        {
            using var request = new HttpRequestMessage(method, path) { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
            using var response = await Gateway.Admin.SendAsync(request);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Contains(problem.GetProperty("errors").EnumerateArray(), e => e.GetProperty("field").GetString() == field && e.GetProperty("code").GetString() == code);
        }
    }

    [Fact]
    public async Task A_schema_may_be_sent_as_json_text_may_hold_nulls_and_is_removed_by_null()
    {
        var (id, _) = await Gateway.CreateLinkAsync(new
        {
            upstream = "http://127.0.0.1:9/s", price = "0.01", payTo = PayTo, name = "Schemas",
            inputSchema = """{ "type": "object", "properties": { "q": { "type": ["string", "null"], "default": null } } }""",
            outputSchema = new Dictionary<string, object?> { ["type"] = "object", ["default"] = null },
        });
        var view = await Gateway.Admin.GetFromJsonAsync<JsonElement>($"/api/links/{id}");
        Assert.Equal(JsonValueKind.Null, view.GetProperty("inputSchema").GetProperty("properties").GetProperty("q").GetProperty("default").ValueKind);
        Assert.Equal(JsonValueKind.Null, view.GetProperty("outputSchema").GetProperty("default").ValueKind);

        using var request = new HttpRequestMessage(HttpMethod.Patch, $"/api/links/{id}") { Content = new StringContent("""{"inputSchema":null,"tags":["a"],"category":""}""", Encoding.UTF8, "application/json") };
        using var response = await Gateway.Admin.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var changed = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(JsonValueKind.Null, changed.GetProperty("inputSchema").ValueKind);
        Assert.Equal(JsonValueKind.Object, changed.GetProperty("outputSchema").ValueKind);
        Assert.Equal(JsonValueKind.Null, changed.GetProperty("category").ValueKind);
        Assert.False(changed.GetProperty("listed").GetBoolean());
    }

    private async Task<(HttpResponseMessage Response, string Body)> JsonGetAsync(string path, string? ifNoneMatch)
    {
        using var http = Gateway.Client();
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (ifNoneMatch is not null)
        {
            request.Headers.IfNoneMatch.Add(System.Net.Http.Headers.EntityTagHeaderValue.Parse(ifNoneMatch));
        }
        var response = await http.SendAsync(request);
        return (response, await response.Content.ReadAsStringAsync());
    }
}
