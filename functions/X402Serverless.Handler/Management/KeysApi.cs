using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using X402Serverless.Core.Access;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Problems;
using X402Serverless.Handler.Requests;

namespace X402Serverless.Handler.Management;

/// <summary>/api/keys: the organisation's management keys, each with a role (and optionally the facilitator grant).</summary>
internal static class KeysApi
{
    public static void MapKeysApi(this RouteGroupBuilder api)
    {
        api.MapPost("/keys", CreateAsync).Requires(ManagementPermission.Admin);
        api.MapGet("/keys", ListAsync).Requires(ManagementPermission.ReadAccess);
        api.MapDelete("/keys/{id}", RevokeAsync).Requires(ManagementPermission.Admin);
    }

    /// <summary>{"role": "developer", "facilitator": false}; an empty body makes an admin key without the facilitator grant.</summary>
    private static async Task<Results<Created<IssuedKey>, ProblemHttpResult>> CreateAsync(HttpContext http, IAccessStore access, TimeProvider time)
    {
        var caller = CallerContext.Of(http);
        var role = KeyRoles.Admin;
        var facilitator = false;
        if (http.Request.ContentLength is not 0 && (http.Request.ContentLength is not null || http.Request.Headers.TransferEncoding.Count > 0))
        {
            if (await JsonBody.ReadObjectAsync(http.Request, http.RequestAborted) is not { } root)
            {
                return JsonBody.Invalid();
            }
            foreach (var property in root.EnumerateObject())
            {
                switch (property.Name)
                {
                    case "role" when property.Value.ValueKind == JsonValueKind.String && KeyRoles.IsKnown(property.Value.GetString()):
                        role = property.Value.GetString()!;
                        break;
                    case "role":
                        return Problem.Typed(StatusCodes.Status400BadRequest, "invalid_role", "role is not a known role.",
                            "Use one of: " + string.Join(", ", KeyRoles.All) + ".");
                    case "facilitator" when property.Value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                        facilitator = property.Value.GetBoolean();
                        break;
                    case "facilitator":
                        return Problem.Typed(StatusCodes.Status400BadRequest, "invalid_facilitator", "facilitator must be true or false.");
                    default:
                        return Problem.Typed(StatusCodes.Status400BadRequest, "unknown_field", $"Unknown field '{Truncate(property.Name)}'.",
                            "A key takes 'role' and 'facilitator'.");
                }
            }
        }
        var issued = await IssueAsync(access, time, caller.Organisation.Id, role, facilitator, http.RequestAborted);
        return TypedResults.Created($"/api/keys/{issued.Id}", issued);
    }

    /// <summary>Stores a new key for the organisation and returns it, to be shown once (the API and the console both issue here).</summary>
    public static async Task<IssuedKey> IssueAsync(IAccessStore access, TimeProvider time, string organisationId, string role, bool facilitator,
        CancellationToken cancellationToken)
    {
        var key = ManagementKeys.NewKey();
        var accessKey = new AccessKey(ManagementKeys.NewId("key"), organisationId, ManagementKeys.DisplayPrefix(key), role, time.GetUtcNow(), facilitator);
        await access.AddKeyAsync(accessKey, ManagementKeys.Hash(key), cancellationToken);
        return new IssuedKey(accessKey.Id, accessKey.Prefix, accessKey.Role, accessKey.Facilitator, accessKey.CreatedAt, key);
    }

    /// <summary>
    /// Revokes one of the organisation's keys, except the caller's own and the last admin key: null when revoked, else
    /// why not (a missing or foreign key is "not found"), shared by the API and the console.
    /// </summary>
    public static async Task<KeyRevokeRefusal?> TryRevokeAsync(IAccessStore access, string organisationId, string callerKeyId, string id,
        CancellationToken cancellationToken)
    {
        if (id == callerKeyId)
        {
            return new(StatusCodes.Status409Conflict, "key_in_use", "A key cannot revoke itself; revoke it with another key of the organisation.", null);
        }
        return await access.RevokeKeyAsync(organisationId, id, cancellationToken) switch
        {
            KeyRevocation.Revoked => null,
            KeyRevocation.LastAdmin => new(StatusCodes.Status409Conflict, "last_admin_key",
                "This is the organisation's last admin key.", "Create another admin key before revoking this one."),
            _ => new(StatusCodes.Status404NotFound, "not_found", "Key not found.", null),
        };
    }

    private static async Task<Ok<ItemList<KeyView>>> ListAsync(HttpContext http, IAccessStore access)
    {
        var caller = CallerContext.Of(http);
        var keys = await access.ListKeysAsync(caller.Organisation.Id, http.RequestAborted);
        return TypedResults.Ok(new ItemList<KeyView>(keys.Select(k => new KeyView(k.Id, k.Prefix, k.Role, k.Facilitator, k.CreatedAt, k.Id == caller.Key.Id))));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeAsync(string id, HttpContext http, IAccessStore access)
    {
        var caller = CallerContext.Of(http);
        return await TryRevokeAsync(access, caller.Organisation.Id, caller.Key.Id, id, http.RequestAborted) switch
        {
            null => TypedResults.NoContent(),
            { Status: StatusCodes.Status404NotFound } => Problem.NotFound("Key"),
            var refusal => Problem.Typed(refusal.Status, refusal.Code, refusal.Title, refusal.Detail),
        };
    }

    private static string Truncate(string name) => name.Length > 40 ? name[..40] + "…" : name;
}

/// <summary>A management key as listed: never the key itself, only the prefix that identifies it.</summary>
internal sealed record KeyView(string Id, string Prefix, string Role, bool Facilitator, DateTimeOffset CreatedAt, bool Current);

/// <summary>Why a key was not revoked: the answer's status and problem code.</summary>
internal sealed record KeyRevokeRefusal(int Status, string Code, string Title, string? Detail);

/// <summary>A new key, shown once.</summary>
internal sealed record IssuedKey(string Id, string Prefix, string Role, bool Facilitator, DateTimeOffset CreatedAt, string Key);
