using System.Text.Json;
using Microsoft.Extensions.Options;
using X402Serverless.Core.Access;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Kyc;
using X402Serverless.Core.Links;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Pricing;
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

    private static async Task<IResult> CreateAsync(HttpContext http, LinkServices s)
    {
        var caller = CallerContext.Of(http);
        var (draft, _, errors) = await LinkRequestReader.ReadAsync(http.Request, http.RequestAborted);
        if (draft is null || errors.Count > 0)
        {
            return Invalid(errors);
        }
        draft = draft with { Networks = draft.Networks ?? s.Options.Value.DefaultNetworks };
        errors.AddRange(await s.Validator.ValidateAsync(draft, creating: true, http.RequestAborted));
        if (errors.Count > 0)
        {
            return Invalid(errors);
        }
        var now = s.Time.GetUtcNow();
        var link = new PaidLink
        {
            Id = ManagementKeys.NewId("lnk"),
            OrganisationId = caller.Organisation.Id,
            Name = draft.Name,
            Description = draft.Description,
            Upstream = draft.Upstream!,
            Price = UsdPrice.Parse(draft.Price!).ToString(),
            PayTo = EvmAddress.Parse(draft.PayTo!).ToString(),
            Networks = draft.Networks!.Distinct(StringComparer.OrdinalIgnoreCase).ToList(),
            Methods = (draft.Methods ?? []).Distinct().ToList(),
            SealedUpstreamHeaders = draft.UpstreamHeaders is { Count: > 0 } h ? s.Sealer.Seal(JsonSerializer.Serialize(h)) : null,
            Settlement = draft.Settlement ?? SettlementModes.Sync,
            Facilitator = draft.Facilitator,
            VerifyOnChain = draft.VerifyOnChain ?? false,
            Accepts = draft.Accepts?.Distinct().ToList() ?? [PaymentTypes.X402],
            ChargeOn = draft.ChargeOn ?? ChargePolicies.Success,
            DailyCapPerPayer = draft.DailyCapPerPayer is null ? null : Money.Parse(draft.DailyCapPerPayer),
            KycLevel = draft.KycLevel ?? KycLevels.None,
            CreatedAt = now,
            UpdatedAt = now,
        };
        await s.Links.CreateAsync(link, http.RequestAborted);
        var view = LinkView.From(link, s.Urls.BaseUrl(http.Request));
        return TypedResults.Created($"/api/links/{link.Id}", view);
    }

    private static async Task<IResult> ListAsync(HttpContext http, LinkServices s)
    {
        var caller = CallerContext.Of(http);
        var baseUrl = s.Urls.BaseUrl(http.Request);
        var links = await s.Links.ListAsync(caller.Organisation.Id, http.RequestAborted);
        return TypedResults.Ok(new { items = links.Select(l => LinkView.From(l, baseUrl)) });
    }

    private static async Task<IResult> GetAsync(string id, HttpContext http, LinkServices s)
    {
        var link = await FindOwnAsync(id, http, s);
        return link is null ? Problem.NotFound("Link") : TypedResults.Ok(LinkView.From(link, s.Urls.BaseUrl(http.Request)));
    }

    private static async Task<IResult> UpdateAsync(string id, HttpContext http, LinkServices s)
    {
        var link = await FindOwnAsync(id, http, s);
        if (link is null)
        {
            return Problem.NotFound("Link");
        }
        var (draft, clearHeaders, errors) = await LinkRequestReader.ReadAsync(http.Request, http.RequestAborted);
        if (draft is null || errors.Count > 0)
        {
            return Invalid(errors);
        }
        // Price precision is checked against the networks the link will have after the change.
        var checkDraft = draft with { Networks = draft.Networks ?? (draft.Price is null ? null : link.Networks) };
        errors.AddRange(await s.Validator.ValidateAsync(checkDraft, creating: false, http.RequestAborted));
        if (errors.Count > 0)
        {
            return Invalid(errors);
        }
        var sealedHeaders = clearHeaders
            ? null
            : draft.UpstreamHeaders is { Count: > 0 } h ? s.Sealer.Seal(JsonSerializer.Serialize(h)) : link.SealedUpstreamHeaders;
        var updated = link with
        {
            Name = draft.Name ?? link.Name,
            Description = draft.Description ?? link.Description,
            Upstream = draft.Upstream ?? link.Upstream,
            Price = draft.Price is null ? link.Price : UsdPrice.Parse(draft.Price).ToString(),
            PayTo = draft.PayTo is null ? link.PayTo : EvmAddress.Parse(draft.PayTo).ToString(),
            Networks = draft.Networks?.Distinct(StringComparer.OrdinalIgnoreCase).ToList() ?? link.Networks,
            Methods = draft.Methods?.Distinct().ToList() ?? link.Methods,
            SealedUpstreamHeaders = sealedHeaders,
            Settlement = draft.Settlement ?? link.Settlement,
            Facilitator = draft.Facilitator ?? link.Facilitator,
            VerifyOnChain = draft.VerifyOnChain ?? link.VerifyOnChain,
            Accepts = draft.Accepts?.Distinct().ToList() ?? link.Accepts,
            ChargeOn = draft.ChargeOn ?? link.ChargeOn,
            DailyCapPerPayer = draft.DailyCapPerPayer is null ? link.DailyCapPerPayer : Money.Parse(draft.DailyCapPerPayer),
            KycLevel = draft.KycLevel ?? link.KycLevel,
            UpdatedAt = s.Time.GetUtcNow(),
        };
        if (!await s.Links.UpdateAsync(updated, http.RequestAborted))
        {
            return Problem.NotFound("Link");
        }
        s.Cache.Invalidate(id);
        return TypedResults.Ok(LinkView.From(updated, s.Urls.BaseUrl(http.Request)));
    }

    private static async Task<IResult> DeleteAsync(string id, HttpContext http, LinkServices s)
    {
        var caller = CallerContext.Of(http);
        if (!await s.Links.DeleteAsync(caller.Organisation.Id, id, http.RequestAborted))
        {
            return Problem.NotFound("Link");
        }
        s.Cache.Invalidate(id);
        return TypedResults.NoContent();
    }

    // A foreign link is reported exactly like a missing one, so ids leak nothing across organisations.
    private static async Task<PaidLink?> FindOwnAsync(string id, HttpContext http, LinkServices s)
    {
        var link = await s.Links.FindAsync(id, http.RequestAborted);
        return link is not null && link.OrganisationId == CallerContext.Of(http).Organisation.Id ? link : null;
    }

    private static IResult Invalid(List<ValidationError> errors) =>
        Problem.Of(StatusCodes.Status400BadRequest, errors.Count > 0 ? errors[0].Code : "invalid_request", "The link is not valid.",
            string.Join(" ", errors.Select(e => e.Message)),
            errors.Select(e => new { field = e.Field, code = e.Code, message = e.Message }));
}

/// <summary>What the links endpoints need, injected as one parameter.</summary>
internal sealed record LinkServices(
    ILinkStore Links,
    LinkValidator Validator,
    ISecretSealer Sealer,
    LinkCache Cache,
    PublicUrls Urls,
    TimeProvider Time,
    IOptions<GatewayOptions> Options);
