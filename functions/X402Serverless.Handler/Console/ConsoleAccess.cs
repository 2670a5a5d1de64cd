using X402Serverless.Core.Links;
using X402Serverless.Handler.Audit;
using X402Serverless.Handler.Management;

namespace X402Serverless.Handler.ProviderConsole;

/// <summary>
/// The console's forms act through the same code as the API, so they answer to the same role matrix and land in the
/// same audit log, with the signed-in key as the actor. Pages hide what a role may not do; a form posted anyway is
/// refused here with a 403 and recorded as denied.
/// </summary>
internal static class ConsoleAccess
{
    /// <summary>The refusal to show in the form, or null when the role allows <paramref name="permission"/>.</summary>
    public static async Task<IReadOnlyList<ValidationError>?> RefuseAsync(HttpContext http, ConsoleUser user, ManagementPermission permission,
        string action, string targetType, string? targetId)
    {
        if (user.May(permission))
        {
            return null;
        }
        http.Response.StatusCode = StatusCodes.Status403Forbidden;
        await RecordAsync(http, user, action, targetType, targetId, null, null, StatusCodes.Status403Forbidden);
        return [new ValidationError("", "forbidden_for_role", $"A '{user.Role}' key lacks the '{permission.Name()}' permission; sign in with a key whose role has it.")];
    }

    public static Task RecordAsync(HttpContext http, ConsoleUser user, string action, string targetType, string? targetId,
        object? before, object? after, int status) =>
        http.RequestServices.GetRequiredService<AuditRecorder>().RecordAsync(http, user.OrganisationId, user.Actor,
            new AuditedAction(action, targetType, targetId,
                AuditRedaction.Serialize(AuditSnapshots.ToNode(http, before)), AuditRedaction.Serialize(AuditSnapshots.ToNode(http, after)), status));
}
