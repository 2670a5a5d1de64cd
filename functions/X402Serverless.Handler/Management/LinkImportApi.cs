using Microsoft.AspNetCore.Http.HttpResults;
using X402Serverless.Handler.Problems;
using X402Serverless.Handler.Requests;

namespace X402Serverless.Handler.Management;

/// <summary>POST /api/links/import: one link per operation of an OpenAPI 3 document, in the caller's organisation.</summary>
internal static class LinkImportApi
{
    public const string Path = "/links/import";

    public static void MapLinkImportApi(this RouteGroupBuilder api) => api.MapPost(Path, ImportAsync);

    private static async Task<Results<Created<ImportReport>, Ok<ImportReport>, ProblemHttpResult>> ImportAsync(
        HttpContext http, LinkImporter importer, LinkServices s)
    {
        var caller = CallerContext.Of(http);
        var (request, errors) = await JsonContract.ReadAsync(http.Request, ApiJson.Default.LinkImportRequest, http.RequestAborted);
        if (request is null)
        {
            return Problem.Invalid("The import request is not valid.", errors);
        }
        var outcome = await importer.ImportAsync(caller.Organisation.Id, request, s.Urls.LinkBaseUrl(http.Request), http.RequestAborted);
        return outcome.Kind switch
        {
            ImportResultKind.BadRequest => Problem.Invalid("The import request is not valid.", outcome.RequestErrors),
            ImportResultKind.Invalid => WithReport(Problem.Typed(StatusCodes.Status422UnprocessableEntity, "invalid_operations",
                "Some operations would not make valid links; nothing was created.",
                $"{outcome.Report!.Invalid} of {outcome.Report.Operations.Count} operations are invalid: fix or exclude them, or send skipInvalid: true.",
                outcome.Report.Errors.ToList()), outcome.Report),
            ImportResultKind.Incomplete => WithReport(Problem.Typed(StatusCodes.Status500InternalServerError, "import_incomplete",
                "The import stopped part way.", outcome.Failure), outcome.Report!),
            _ when outcome.Report!.Created > 0 => TypedResults.Created("/api/links", outcome.Report),
            _ => TypedResults.Ok(outcome.Report),
        };
    }

    /// <summary>A problem that also carries the import's report, so a refused or broken import still says what became of each operation.</summary>
    private static ProblemHttpResult WithReport(ProblemHttpResult problem, ImportReport report)
    {
        problem.ProblemDetails.Extensions["operations"] = report.Operations;
        return problem;
    }
}
