using X402Serverless.Handler.Requests;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using X402Serverless.Core.Links;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Hosting;
using X402Serverless.Handler.Paywall;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Management;

/// <summary>/api/links: a provider's paid links, scoped to the caller's organisation.</summary>
internal static class LinksApi
{
    public static void MapLinksApi(this RouteGroupBuilder api)
    {
        var links = api.MapGroup("/links");
        links.MapPost("", CreateAsync);
        links.MapGet("", ListAsync);
        links.MapGet("/{id}", GetAsync);
        links.MapPatch("/{id}", UpdateAsync);
        links.MapDelete("/{id}", DeleteAsync);
    }

    private static async Task<Results<Created<LinkView>, ProblemHttpResult>> CreateAsync(HttpContext http, LinkServices s)
    {
        var caller = CallerContext.Of(http);
        var (draft, errors) = await JsonContract.ReadAsync(http.Request, ApiJson.Default.LinkDraft, http.RequestAborted);
        if (draft is null)
        {
            return Invalid(errors);
        }
        var (link, invalid) = await s.CreateLinkAsync(caller.Organisation.Id, draft.Normalized(), http.RequestAborted);
        if (link is null)
        {
            return Invalid(invalid);
        }
        var view = LinkView.From(link, s.Urls.LinkBaseUrl(http.Request), Inbox.InboxWebhookSecrets.IssuedBy(null, link, s.Sealer));
        return TypedResults.Created($"/api/links/{link.Id}", view);
    }

    private static async Task<Ok<ItemList<LinkView>>> ListAsync(HttpContext http, LinkServices s)
    {
        var caller = CallerContext.Of(http);
        var baseUrl = s.Urls.LinkBaseUrl(http.Request);
        var links = await s.Links.ListAsync(caller.Organisation.Id, http.RequestAborted);
        return TypedResults.Ok(new ItemList<LinkView>(links.Select(l => LinkView.From(l, baseUrl))));
    }

    private static async Task<Results<Ok<LinkView>, ProblemHttpResult>> GetAsync(string id, HttpContext http, LinkServices s)
    {
        var link = await FindOwnAsync(id, http, s);
        return link is null ? Problem.NotFound("Link") : TypedResults.Ok(LinkView.From(link, s.Urls.LinkBaseUrl(http.Request)));
    }

    private static async Task<Results<Ok<LinkView>, ProblemHttpResult>> UpdateAsync(string id, HttpContext http, LinkServices s)
    {
        var link = await FindOwnAsync(id, http, s);
        if (link is null)
        {
            return Problem.NotFound("Link");
        }
        var (draft, errors) = await JsonContract.ReadAsync(http.Request, ApiJson.Default.LinkDraft, http.RequestAborted);
        if (draft is null)
        {
            return Invalid(errors);
        }
        var (updated, invalid) = await s.UpdateLinkAsync(link, draft.Normalized(), http.RequestAborted);
        if (invalid.Count > 0)
        {
            return Invalid(invalid);
        }
        return updated is null
            ? Problem.NotFound("Link")
            : TypedResults.Ok(LinkView.From(updated, s.Urls.LinkBaseUrl(http.Request), Inbox.InboxWebhookSecrets.IssuedBy(link, updated, s.Sealer)));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string id, HttpContext http, LinkServices s)
    {
        var caller = CallerContext.Of(http);
        return await s.DeleteLinkAsync(caller.Organisation.Id, id, http.RequestAborted) ? TypedResults.NoContent() : Problem.NotFound("Link");
    }

    private static Task<PaidLink?> FindOwnAsync(string id, HttpContext http, LinkServices s) =>
        s.FindOwnLinkAsync(CallerContext.Of(http).Organisation.Id, id, http.RequestAborted);

    private static ProblemHttpResult Invalid(List<ValidationError> errors) => Problem.Invalid("The link is not valid.", errors);
}

/// <summary>What the links endpoints need, injected as one parameter.</summary>
internal sealed record LinkServices(
    ILinkStore Links,
    LinkValidator Validator,
    ISecretSealer Sealer,
    LinkCache Cache,
    Listings.ListingCatalogue Catalogue,
    PublicUrls Urls,
    OutboundWebhooks.WebhookUrlCheck WebhookUrls,
    TimeProvider Time,
    IOptions<GatewayOptions> Options);
