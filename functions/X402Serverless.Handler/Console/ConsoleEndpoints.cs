using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;

namespace X402Serverless.Handler.ProviderConsole;

/// <summary>/console: the providers' web console, rendered on the server with no script.</summary>
internal static class ConsoleEndpoints
{
    public static void MapConsole(this WebApplication app)
    {
        // Added here, after the Front Door guard and the exception handler, rather than implicitly at the pipeline's start.
        app.UseWhen(c => c.Request.Path.StartsWithSegments(ConsoleAuth.BasePath), b => b.UseMiddleware<ConsoleHeaders>());
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();

        app.MapRazorComponents<ConsoleApp>().RequireAuthorization(ConsoleAuth.Policy);
        app.MapGet(ConsoleStyles.Path, () => TypedResults.Text(ConsoleStyles.Css, "text/css"));
        app.MapPost("/console/logout", SignOutAsync).RequireAuthorization(ConsoleAuth.Policy);
        app.MapGet("/console/audit.csv", AuditCsvAsync).RequireAuthorization(ConsoleAuth.Policy);
        app.MapConsoleDownloads();
    }

    /// <summary>The audit page's CSV download: the same entries and filters as GET /api/audit.csv.</summary>
    private static async Task<IResult> AuditCsvAsync(HttpContext http, Core.Ports.IAuditLog log, string? action, string? targetType, string? targetId)
    {
        var user = ConsoleAuth.User(http.User)!;
        if (!user.May(Management.ManagementPermission.ReadAccess))
        {
            return Problems.Problem.Of(StatusCodes.Status403Forbidden, "forbidden_for_role", "This key's role does not allow this.",
                $"A '{user.Role}' key lacks the 'access.read' permission.");
        }
        if (Audit.AuditApi.Query(action, targetType, targetId, null, Audit.AuditApi.MaxLimit) is not { } query)
        {
            return Problems.Problem.Of(StatusCodes.Status400BadRequest, "invalid_query", "The audit query is not valid.");
        }
        http.Response.Headers.ContentDisposition = "attachment; filename=\"audit.csv\"";
        return TypedResults.Text(await Audit.AuditApi.CsvAsync(log, user.OrganisationId, query, http.RequestAborted), "text/csv; charset=utf-8");
    }

    private static async Task<IResult> SignOutAsync(HttpContext http, IAntiforgery antiforgery)
    {
        if (!await antiforgery.IsRequestValidAsync(http))
        {
            return Problems.Problem.Of(StatusCodes.Status400BadRequest, "antiforgery_failed", "The form is missing its antiforgery token.");
        }
        await http.SignOutAsync(ConsoleAuth.Scheme);
        return TypedResults.Redirect(ConsoleAuth.LoginPath);
    }
}
