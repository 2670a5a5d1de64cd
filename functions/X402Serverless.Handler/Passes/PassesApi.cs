using Microsoft.AspNetCore.Http.HttpResults;
using X402Serverless.Core.Passes;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Management;
using X402Serverless.Handler.Paywall;
using X402Serverless.Handler.Payers;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Passes;

/// <summary>
/// Passes in the management API (a provider's link's passes, and revoking one; another organisation's link or pass
/// is 404) and in the payer API (/api/me/passes: the payer account's own).
/// </summary>
internal static class PassesApi
{
    private const int MaxListed = 500;

    public static void MapLinkPassesApi(this RouteGroupBuilder api)
    {
        api.MapGet("/links/{id}/passes", ListForLinkAsync);
        api.MapPost("/links/{id}/passes/{passId}/revoke", RevokeAsync);
    }

    public static void MapPayerPasses(this RouteGroupBuilder me) =>
        me.MapGet("/passes", async (HttpContext http, IPassStore passes, TimeProvider time) =>
        {
            var now = time.GetUtcNow();
            var held = await passes.ListForHolderAsync(PassHolders.Payer(PayerAuthFilter.Of(http).Id), null, MaxListed, http.RequestAborted);
            return TypedResults.Ok(new ItemList<PassView>(held.Select(p => PassView.From(p, now))));
        });

    private static async Task<Results<Ok<ItemList<PassView>>, ProblemHttpResult>> ListForLinkAsync(string id, HttpContext http, LinkServices links,
        IPassStore passes, TimeProvider time)
    {
        if (await links.FindOwnLinkAsync(CallerContext.Of(http).Organisation.Id, id, http.RequestAborted) is null)
        {
            return Problem.NotFound("Link");
        }
        var now = time.GetUtcNow();
        var sold = await passes.ListForLinkAsync(id, MaxListed, http.RequestAborted);
        return TypedResults.Ok(new ItemList<PassView>(sold.Select(p => PassView.From(p, now))));
    }

    private static async Task<Results<Ok<PassView>, ProblemHttpResult>> RevokeAsync(string id, string passId, HttpContext http, LinkServices links,
        IPassStore passes, TimeProvider time)
    {
        if (await links.FindOwnLinkAsync(CallerContext.Of(http).Organisation.Id, id, http.RequestAborted) is null)
        {
            return Problem.NotFound("Pass");
        }
        return await RevokeSoldAsync(passes, time, id, passId, http.RequestAborted) is { } revoked ? TypedResults.Ok(revoked) : Problem.NotFound("Pass");
    }

    /// <summary>
    /// Revokes a pass sold on <paramref name="linkId"/> (already checked to be the caller's), answering how it now looks;
    /// null when the link sold no such pass. Shared by the API and the console.
    /// </summary>
    public static async Task<PassView?> RevokeSoldAsync(IPassStore passes, TimeProvider time, string linkId, string passId, CancellationToken cancellationToken)
    {
        if (await passes.GetAsync(linkId, passId, cancellationToken) is not { } pass)
        {
            return null;
        }
        var now = time.GetUtcNow();
        if (!await passes.RevokeAsync(linkId, passId, now, PassRevocations.Provider, cancellationToken) && pass.RevokedAt is null)
        {
            return null;
        }
        return PassView.From(await passes.GetAsync(linkId, passId, cancellationToken) ?? pass, now);
    }
}
