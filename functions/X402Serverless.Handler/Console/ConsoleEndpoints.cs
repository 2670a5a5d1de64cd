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
