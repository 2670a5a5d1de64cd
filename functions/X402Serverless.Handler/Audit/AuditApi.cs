using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using X402Serverless.Core.Access;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Management;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Audit;

/// <summary>
/// GET /api/audit: the caller's organisation's audit log, newest first, filtered by action, targetType and targetId,
/// paged by the opaque "next" cursor; GET /api/audit.csv: the same entries as CSV (at most <see cref="CsvMaxRows"/>).
/// </summary>
internal static class AuditApi
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;
    public const int CsvMaxRows = 10_000;

    public static void MapAuditApi(this RouteGroupBuilder api)
    {
        api.MapGet("/audit", async Task<Results<Ok<AuditPageView>, ProblemHttpResult>> (HttpContext http, IAuditLog log,
            string? action, string? targetType, string? targetId, string? after, int? limit) =>
        {
            if (Query(action, targetType, targetId, after, limit ?? DefaultLimit) is not { } query)
            {
                return Invalid();
            }
            var page = await log.ListAsync(CallerContext.Of(http).Organisation.Id, query, http.RequestAborted);
            return TypedResults.Ok(new AuditPageView(page.Entries.Select(AuditEntryView.From).ToList(), page.Next));
        }).Requires(ManagementPermission.ReadAccess);
        api.MapGet("/audit.csv", async Task<Results<ContentHttpResult, ProblemHttpResult>> (HttpContext http, IAuditLog log,
            string? action, string? targetType, string? targetId) =>
        {
            if (Query(action, targetType, targetId, null, MaxLimit) is not { } query)
            {
                return Invalid();
            }
            var csv = await CsvAsync(log, CallerContext.Of(http).Organisation.Id, query, http.RequestAborted);
            http.Response.Headers.ContentDisposition = "attachment; filename=\"audit.csv\"";
            return TypedResults.Text(csv, "text/csv; charset=utf-8");
        }).Requires(ManagementPermission.ReadAccess);
    }

    /// <summary>The entries matching <paramref name="query"/>, newest first, as CSV (shared with the console's download).</summary>
    public static async Task<string> CsvAsync(IAuditLog log, string organisationId, AuditQuery query, CancellationToken cancellationToken)
    {
        var csv = new StringBuilder(AuditCsv.Header);
        var rows = 0;
        while (rows < CsvMaxRows)
        {
            var page = await log.ListAsync(organisationId, query, cancellationToken);
            foreach (var entry in page.Entries.Take(CsvMaxRows - rows))
            {
                AuditCsv.Append(csv, entry);
                rows++;
            }
            if (page.Next is null)
            {
                break;
            }
            query = query with { After = page.Next };
        }
        return csv.ToString();
    }

    /// <summary>The query, or null when a filter is too long, the cursor is not one this log issued, or the limit is out of range.</summary>
    public static AuditQuery? Query(string? action, string? targetType, string? targetId, string? after, int limit)
    {
        // An empty filter (a form's blank field) is no filter.
        (action, targetType, targetId, after) = (NullIfEmpty(action), NullIfEmpty(targetType), NullIfEmpty(targetId), NullIfEmpty(after));
        static bool Fits(string? value) => value is null || value.Length <= 200;
        if (!Fits(action) || !Fits(targetType) || !Fits(targetId) || limit is < 1 or > MaxLimit || (after is not null && !AuditIds.IsWellFormed(after)))
        {
            return null;
        }
        return new AuditQuery(action, targetType, targetId, after, limit);
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static ProblemHttpResult Invalid() => Problem.Typed(StatusCodes.Status400BadRequest, "invalid_query",
        "The audit query is not valid.", $"limit is 1–{MaxLimit}; filters are 1–200 characters; 'after' is a 'next' value from a previous page.");
}

/// <summary>A page of the audit log.</summary>
internal sealed record AuditPageView(IReadOnlyList<AuditEntryView> Items, string? Next);

/// <summary>An audit entry as the API shows it; before and after are the recorded (redacted) JSON, as text.</summary>
internal sealed record AuditEntryView(
    string Id, DateTimeOffset At, AuditActor Actor, string Action, string TargetType, string? TargetId,
    string? Before, string? After, string? ClientAddress, string Outcome, int Status)
{
    public static AuditEntryView From(AuditEntry e) =>
        new(e.Id, e.At, e.Actor, e.Action, e.TargetType, e.TargetId, e.Before, e.After, e.ClientAddress, e.Outcome, e.Status);
}
