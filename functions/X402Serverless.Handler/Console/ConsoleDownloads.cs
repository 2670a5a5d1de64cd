using X402Serverless.Core.Networks;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Management;

namespace X402Serverless.Handler.ProviderConsole;

/// <summary>
/// The console's CSV downloads: the same writers, queries and permissions as /api/usage.csv, /api/payments.csv and
/// /api/ledger/postings.csv, for the signed-in organisation.
/// </summary>
internal static class ConsoleDownloads
{
    public static void MapConsoleDownloads(this WebApplication app)
    {
        app.MapGet("/console/usage.csv", async (HttpContext http, IUsageStore usage, ILinkStore links, TimeProvider time, int? days) =>
        {
            if (Refuse(http, ManagementPermission.ReadLinks) is { } refused)
            {
                return refused;
            }
            var organisation = ConsoleAuth.User(http.User)!.OrganisationId;
            if (await UsageCsv.CountsAsync(usage, time, organisation, days, http.RequestAborted) is not (_, { } counts))
            {
                return Problems.Problem.Of(StatusCodes.Status400BadRequest, "invalid_days", $"days is between 1 and {UsageCsv.MaxDays}.");
            }
            return CsvCells.Download("usage.csv", (w, ct) => UsageCsv.WriteAsync(w, counts, links, organisation, ct), http.RequestAborted);
        }).RequireAuthorization(ConsoleAuth.Policy);
        app.MapGet("/console/payments.csv", (HttpContext http, IPaymentStore payments, NetworkRegistry networks, string? status, string? linkId) =>
            Refuse(http, ManagementPermission.ReadLinks)
                ?? PaymentsApi.Csv(http, payments, networks, ConsoleAuth.User(http.User)!.OrganisationId, status, linkId))
            .RequireAuthorization(ConsoleAuth.Policy);
        app.MapGet("/console/postings.csv", (HttpContext http, ILedger ledger, IPayerStore payers) =>
            Refuse(http, ManagementPermission.ReadBilling)
                ?? LedgerApi.PostingsDownload(http, ledger, payers, ConsoleAuth.User(http.User)!.OrganisationId))
            .RequireAuthorization(ConsoleAuth.Policy);
    }

    private static IResult? Refuse(HttpContext http, ManagementPermission permission)
    {
        var user = ConsoleAuth.User(http.User)!;
        return user.May(permission) ? null : Problems.Problem.Of(StatusCodes.Status403Forbidden, "forbidden_for_role", "This key's role does not allow this.",
            $"A '{user.Role}' key lacks the '{permission.Name()}' permission.");
    }
}
