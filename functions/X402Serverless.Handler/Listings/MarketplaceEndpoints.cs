using Microsoft.Extensions.Options;
using X402Serverless.Core.Links;
using X402Serverless.Handler.Hosting;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Listings;

/// <summary>
/// The public face of listed links: the catalogue at / (for browsers; other clients still get the readiness answer
/// the Functions host polls), a page per API, the API reference at /reference, /discovery/resources in the x402 Bazaar shape and /openapi.json.
/// Every answer comes from the in-memory <see cref="ListingCatalogue"/>, carries a strong ETag and answers a
/// matching If-None-Match with 304.
/// </summary>
internal static class MarketplaceEndpoints
{
    // The console's policy: no script anywhere, only our own stylesheet, forms posting to ourselves.
    private const string ContentSecurityPolicy =
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    public static void MapMarketplace(this WebApplication app)
    {
        app.MapGet("/", RootAsync);
        app.MapGet("/apis/{id}", ApiAsync);
        app.MapGet(CatalogueStyles.Path, (HttpContext http) =>
        {
            http.Response.Headers.CacheControl = "public, max-age=3600";
            return TypedResults.Text(CatalogueStyles.Css, "text/css; charset=utf-8");
        });
        app.MapGet("/discovery/resources", DiscoveryAsync);
        app.MapGet("/openapi.json", OpenApiAsync);
        app.MapGet("/reference", ReferenceAsync);
    }

    // Services are resolved only for the catalogue: a readiness probe costs what it did before there was one.
    private static async Task RootAsync(HttpContext http, IOptions<GatewayOptions> options)
    {
        // The Functions host and probes ask "/" for readiness; only a browser (and never the links origin, whose pages
        // run providers' scripts unsandboxed) gets the catalogue.
        if (!http.Request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase) || OnLinksOrigin(http, options.Value))
        {
            await TypedResults.Ok(new { service = "X402Serverless", status = "ok" }).ExecuteAsync(http);
            return;
        }
        var catalogue = http.RequestServices.GetRequiredService<ListingCatalogue>();
        var pages = http.RequestServices.GetRequiredService<CataloguePages>();
        var snapshot = await catalogue.GetAsync(http.RequestAborted);
        var query = CatalogueQuery.From(http.Request.Query);
        var document = snapshot.Rendered("list\u0001" + query.Key, () => RenderedDocument.Html(pages.List(snapshot, query)));
        await WriteAsync(http, document, html: true);
    }

    private static async Task ApiAsync(string id, HttpContext http, ListingCatalogue catalogue, CataloguePages pages, PublicUrls urls)
    {
        var snapshot = await catalogue.GetAsync(http.RequestAborted);
        if (!snapshot.ById.TryGetValue(id, out var entry))
        {
            await WriteAsync(http, RenderedDocument.Html(CataloguePages.NotFound(), StatusCodes.Status404NotFound), html: true);
            return;
        }
        var linkBase = urls.LinkBaseUrl(http.Request);
        var baseUrl = urls.BaseUrl(http.Request);
        var document = snapshot.Rendered($"api\u0001{linkBase}\u0001{baseUrl}\u0001{id}", () => RenderedDocument.Html(pages.Api(entry, linkBase, baseUrl)));
        await WriteAsync(http, document, html: true);
    }

    private static async Task DiscoveryAsync(HttpContext http, ListingCatalogue catalogue, PublicUrls urls)
    {
        var query = http.Request.Query;
        var errors = new List<ValidationError>();
        var limit = Bounded(query["limit"], "limit", DiscoveryDocument.DefaultLimit, 1, DiscoveryDocument.MaxLimit, errors);
        var offset = Bounded(query["offset"], "offset", 0, 0, 1_000_000, errors);
        var type = query["type"].ToString() is { Length: > 0 } t ? t : null;
        if (type is { Length: > 32 })
        {
            errors.Add(new("type", "invalid_type_filter", "type is a resource type such as \"http\"."));
        }
        if (errors.Count > 0)
        {
            await Problem.Invalid("The discovery query is not valid.", errors).ExecuteAsync(http);
            return;
        }
        var snapshot = await catalogue.GetAsync(http.RequestAborted);
        var linkBase = urls.LinkBaseUrl(http.Request);
        var baseUrl = urls.BaseUrl(http.Request);
        var document = snapshot.Rendered($"discovery\u0001{linkBase}\u0001{baseUrl}\u0001{type}\u0001{limit}\u0001{offset}",
            () => RenderedDocument.Json(DiscoveryDocument.Render(snapshot, linkBase, baseUrl, type, limit, offset)));
        await WriteAsync(http, document, html: false);
    }

    private static async Task OpenApiAsync(HttpContext http, ListingCatalogue catalogue, PublicUrls urls)
    {
        var snapshot = await catalogue.GetAsync(http.RequestAborted);
        var linkBase = urls.LinkBaseUrl(http.Request);
        var baseUrl = urls.BaseUrl(http.Request);
        var document = snapshot.Rendered($"openapi\u0001{linkBase}\u0001{baseUrl}", () => RenderedDocument.Json(OpenApiDocument.Render(snapshot, linkBase, baseUrl)));
        await WriteAsync(http, document, html: false);
    }

    private static async Task ReferenceAsync(HttpContext http, ListingCatalogue catalogue, ReferencePage page, PublicUrls urls)
    {
        var snapshot = await catalogue.GetAsync(http.RequestAborted);
        var linkBase = urls.LinkBaseUrl(http.Request);
        var baseUrl = urls.BaseUrl(http.Request);
        var document = snapshot.Rendered($"reference\u0001{linkBase}\u0001{baseUrl}", () => RenderedDocument.Html(page.Render(snapshot, linkBase, baseUrl)));
        await WriteAsync(http, document, html: true);
    }

    private static int Bounded(string? text, string field, int fallback, int min, int max, List<ValidationError> errors)
    {
        if (string.IsNullOrEmpty(text))
        {
            return fallback;
        }
        if (int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
        {
            return value;
        }
        errors.Add(new(field, $"invalid_{field}", $"{field} is a whole number from {min} to {max}."));
        return fallback;
    }

    private static async Task WriteAsync(HttpContext http, RenderedDocument document, bool html)
    {
        var response = http.Response;
        var headers = response.Headers;
        // Compressed once per document and kept: /openapi.json of a thousand APIs is megabytes, and gzip shrinks its
        // repeated structure many times over.
        var gzip = AcceptsGzip(http.Request) ? document.Gzip : null;
        var etag = gzip is null ? document.ETag : document.GzipETag;
        // Public and shared, but revalidated every time: a listing change shows at once, an unchanged one costs a 304.
        headers.CacheControl = "no-cache";
        headers.ETag = etag;
        headers.XContentTypeOptions = "nosniff";
        headers.Vary = "Accept, Accept-Encoding";
        if (html)
        {
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
        }
        else
        {
            headers.AccessControlAllowOrigin = "*";
        }
        if (document.Status == StatusCodes.Status200OK && Matches(http.Request.Headers.IfNoneMatch.ToString(), etag))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }
        var body = gzip ?? document.Body;
        if (gzip is not null)
        {
            headers.ContentEncoding = "gzip";
        }
        response.StatusCode = document.Status;
        response.ContentType = document.ContentType;
        response.ContentLength = body.Length;
        await response.Body.WriteAsync(body, http.RequestAborted);
    }

    // Accept-Encoding names gzip (or *) without q=0. A header that does not parse is taken as asking for none.
    private static bool AcceptsGzip(HttpRequest request)
    {
        var values = request.Headers.AcceptEncoding;
        if (values.Count == 0 || !Microsoft.Net.Http.Headers.StringWithQualityHeaderValue.TryParseList(values, out var codings))
        {
            return false;
        }
        var gzip = codings.FirstOrDefault(c => c.Value.Equals("gzip", StringComparison.OrdinalIgnoreCase))
            ?? codings.FirstOrDefault(c => c.Value.Equals("*", StringComparison.Ordinal));
        return gzip is not null && (gzip.Quality ?? 1) > 0;
    }

    // If-None-Match lists ETags (possibly weak, W/"…") or is "*".
    private static bool Matches(string ifNoneMatch, string etag) =>
        ifNoneMatch.Length > 0 && (ifNoneMatch.Trim() == "*"
            || ifNoneMatch.Split(',').Any(t => t.Trim() is var tag && (tag == etag || tag == "W/" + etag)));

    private static bool OnLinksOrigin(HttpContext http, GatewayOptions options) =>
        LinksOrigin.Parse(options.LinksOrigin) is { } origin
        && LinksOrigin.Addressed(http.Request, origin, !string.IsNullOrWhiteSpace(options.FrontDoorId));
}
