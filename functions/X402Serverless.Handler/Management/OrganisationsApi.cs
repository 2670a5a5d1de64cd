using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using X402Serverless.Core.Access;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Problems;
using X402Serverless.Handler.Requests;

namespace X402Serverless.Handler.Management;

/// <summary>/api/organisation(s) and /api/keys: who the caller is, new organisations (operator only) and more keys.</summary>
internal static class OrganisationsApi
{
    public static void MapOrganisationsApi(this RouteGroupBuilder api)
    {
        api.MapGet("/organisation", (HttpContext http) =>
        {
            var caller = CallerContext.Of(http);
            return TypedResults.Ok(new OrganisationView(caller.Organisation.Id, caller.Organisation.Name, caller.Organisation.IsOperator));
        });
        api.MapPost("/organisations", CreateOrganisationAsync);
        api.MapPost("/keys", CreateKeyAsync);
        api.MapGet("/keys", async (HttpContext http, IAccessStore access) =>
            TypedResults.Ok(new ItemList<KeyView>(
                (await access.ListKeysAsync(CallerContext.Of(http).Organisation.Id, http.RequestAborted))
                    .Select(k => new KeyView(k.Id, k.Prefix, k.Role, k.CreatedAt, k.Id == CallerContext.Of(http).Key.Id)))));
        api.MapDelete("/keys/{id}", async Task<Results<NoContent, ProblemHttpResult>> (string id, HttpContext http, IAccessStore access) =>
        {
            var caller = CallerContext.Of(http);
            if (id == caller.Key.Id)
            {
                return Problem.Typed(StatusCodes.Status409Conflict, "key_in_use", "A key cannot revoke itself; revoke it with another key of the organisation.");
            }
            return await access.RevokeKeyAsync(caller.Organisation.Id, id, http.RequestAborted)
                ? TypedResults.NoContent()
                : Problem.NotFound("Key");
        });
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

    private static async Task<Created<IssuedKey>> CreateKeyAsync(HttpContext http, IAccessStore access, TimeProvider time)
    {
        var caller = CallerContext.Of(http);
        var key = ManagementKeys.NewKey();
        var accessKey = new AccessKey(ManagementKeys.NewId("key"), caller.Organisation.Id, ManagementKeys.DisplayPrefix(key), AccessKey.AdminRole, time.GetUtcNow());
        await access.AddKeyAsync(accessKey, ManagementKeys.Hash(key), http.RequestAborted);
        return TypedResults.Created($"/api/keys/{accessKey.Id}", new IssuedKey(accessKey.Id, accessKey.Prefix, key));
    }
}

/// <summary>The caller's organisation.</summary>
internal sealed record OrganisationView(string Id, string Name, bool IsOperator);

/// <summary>A management key as listed: never the key itself, only the prefix that identifies it.</summary>
internal sealed record KeyView(string Id, string Prefix, string Role, DateTimeOffset CreatedAt, bool Current);

/// <summary>A new organisation and its first key, shown once.</summary>
internal sealed record IssuedOrganisation(string Id, string Name, string Key);

/// <summary>A new key, shown once.</summary>
internal sealed record IssuedKey(string Id, string Prefix, string Key);
