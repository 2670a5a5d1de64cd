using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using X402Serverless.Core.Access;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Problems;
using X402Serverless.Handler.Requests;

namespace X402Serverless.Handler.Management;

/// <summary>/api/organisation(s): who the caller is and new organisations (operator only).</summary>
internal static class OrganisationsApi
{
    public static void MapOrganisationsApi(this RouteGroupBuilder api)
    {
        api.MapGet("/organisation", (HttpContext http) =>
        {
            var caller = CallerContext.Of(http);
            return TypedResults.Ok(new OrganisationView(caller.Organisation.Id, caller.Organisation.Name, caller.Organisation.IsOperator, caller.Key.Role));
        }).Requires(ManagementPermission.ReadLinks);
        api.MapPost("/organisations", CreateOrganisationAsync);
    }

    private static async Task<Results<Created<IssuedOrganisation>, ProblemHttpResult>> CreateOrganisationAsync(HttpContext http, IAccessStore access, TimeProvider time)
    {
        var caller = CallerContext.Of(http);
        if (!caller.Organisation.IsOperator)
        {
            return Problem.Typed(StatusCodes.Status403Forbidden, "forbidden", "Only the operator organisation can create organisations.");
        }
        if (await JsonBody.ReadAsync(http.Request, http.RequestAborted) is not { } root)
        {
            return JsonBody.Invalid();
        }
        var name = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
        if (string.IsNullOrWhiteSpace(name) || name.Length > 200)
        {
            return Problem.Typed(StatusCodes.Status400BadRequest, "invalid_name", "name is required (1–200 characters).");
        }
        var key = ManagementKeys.NewKey();
        var now = time.GetUtcNow();
        var organisation = new Organisation(ManagementKeys.NewId("org"), name.Trim(), IsOperator: false, now);
        var accessKey = new AccessKey(ManagementKeys.NewId("key"), organisation.Id, ManagementKeys.DisplayPrefix(key), AccessKey.AdminRole, now);
        await access.CreateOrganisationAsync(organisation, accessKey, ManagementKeys.Hash(key), http.RequestAborted);
        return TypedResults.Created($"/api/organisations/{organisation.Id}", new IssuedOrganisation(organisation.Id, organisation.Name, key));
    }
}

/// <summary>The caller's organisation, and the role of the key asking.</summary>
internal sealed record OrganisationView(string Id, string Name, bool IsOperator, string Role);

/// <summary>A new organisation and its first key, shown once.</summary>
internal sealed record IssuedOrganisation(string Id, string Name, string Key);
