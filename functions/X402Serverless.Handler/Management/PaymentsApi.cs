using Microsoft.AspNetCore.Http.HttpResults;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;
using X402Serverless.Handler.Problems;

namespace X402Serverless.Handler.Management;

/// <summary>/api/payments: a provider's x402 payments with their settlement state.</summary>
internal static class PaymentsApi
{
    public static void MapPaymentsApi(this RouteGroupBuilder api)
    {
        api.MapGet("/payments", ListAsync);
        api.MapGet("/payments/{id}", GetAsync);
        api.MapGet("/payments.csv", CsvAsync);
    }

    /// <summary>GET /api/payments.csv?status=&amp;linkId=: the same query as the list, every page, as CSV (at most <see cref="PaymentsCsv.MaxRows"/> rows).</summary>
    private static IResult CsvAsync(HttpContext http, IPaymentStore payments, Core.Networks.NetworkRegistry networks, string? status, string? linkId) =>
        Csv(http, payments, networks, CallerContext.Of(http).Organisation.Id, status, linkId);

    /// <summary>The payments download for an organisation, or the problem with its filters (shared with the console).</summary>
    public static IResult Csv(HttpContext http, IPaymentStore payments, Core.Networks.NetworkRegistry networks, string organisationId, string? status, string? linkId)
    {
        if (ParseStatus(status) is not (var parsed, null))
        {
            return InvalidStatus();
        }
        if (linkId is { Length: > 100 })
        {
            return Problem.Typed(StatusCodes.Status400BadRequest, "invalid_link", "linkId is at most 100 characters.");
        }
        linkId = string.IsNullOrEmpty(linkId) ? null : linkId;
        return CsvCells.Download("payments.csv", (w, ct) => PaymentsCsv.WriteAsync(w, payments, networks, organisationId, parsed, linkId, ct), http.RequestAborted);
    }

    // An empty status (a form's blank field) is no filter.
    private static (PaymentStatus? Status, string? Error) ParseStatus(string? status) =>
        string.IsNullOrEmpty(status) ? (null, null)
        : Enum.TryParse<PaymentStatus>(status, ignoreCase: true, out var s) && Enum.IsDefined(s) ? (s, null)
        : (null, "invalid_status");

    private static ProblemHttpResult InvalidStatus() => Problem.Typed(StatusCodes.Status400BadRequest, "invalid_status",
        $"status must be one of {string.Join(", ", Enum.GetNames<PaymentStatus>().Select(n => n.ToLowerInvariant()))}.");

    // limit and before are read as text: a binder failure would only say "bad request", not which parameter or how to fix it.
    private static async Task<Results<Ok<PaymentPage>, ProblemHttpResult>> ListAsync(HttpContext http, IPaymentStore payments, string? status, string? linkId, string? limit, string? before,
        string? cursor)
    {
        PaymentStatus? parsed = null;
        if (status is not null)
        {
            if (!Enum.TryParse<PaymentStatus>(status, ignoreCase: true, out var s) || !Enum.IsDefined(s))
            {
                return Problem.Typed(StatusCodes.Status400BadRequest, "invalid_status",
                    $"status must be one of {string.Join(", ", Enum.GetNames<PaymentStatus>().Select(n => n.ToLowerInvariant()))}.");
            }
            parsed = s;
        }
        var count = 100;
        if (limit is not null && (!int.TryParse(limit, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out count) || count is < 1 or > 500))
        {
            return Problem.Typed(StatusCodes.Status400BadRequest, "invalid_limit", "limit is a whole number between 1 and 500.");
        }
        DateTimeOffset? until = null;
        if (before is not null)
        {
            if (!DateTimeOffset.TryParse(before, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var at))
            {
                return Problem.Typed(StatusCodes.Status400BadRequest, "invalid_before", "before is an ISO 8601 time, e.g. 2026-11-26T12:00:00Z.");
            }
            until = at;
        }
        PaymentCursor? after = null;
        if (cursor is not null)
        {
            // A cursor carries its own position: with before as well, one of them would silently be ignored.
            if (before is not null || (after = PaymentCursor.Parse(cursor)) is null)
            {
                return Problem.Typed(StatusCodes.Status400BadRequest, "invalid_cursor",
                    "cursor is the next value of a previous page, unchanged, and is not combined with before.");
            }
        }
        var caller = CallerContext.Of(http);
        var items = await payments.ListAsync(caller.Organisation.Id, new PaymentQuery(parsed, linkId, count, until, after), http.RequestAborted);
        // A full page may have more after it: its last row is where the next one starts (that page may be empty).
        var next = items.Count == count ? PaymentCursor.Of(items[^1]).ToString() : null;
        return TypedResults.Ok(new PaymentPage(items.Select(PaymentView.From), next));
    }

    private static async Task<Results<Ok<PaymentView>, ProblemHttpResult>> GetAsync(string id, HttpContext http, IPaymentStore payments)
    {
        var payment = await payments.GetAsync(id, http.RequestAborted);
        return payment is null || payment.OrganisationId != CallerContext.Of(http).Organisation.Id
            ? Problem.NotFound("Payment")
            : TypedResults.Ok(PaymentView.From(payment));
    }
}

/// <summary>A page of payments; <see cref="Next"/> is the cursor of the following page (none after the last one).</summary>
internal sealed record PaymentPage(IEnumerable<PaymentView> Items, string? Next);

/// <summary>A payment as a provider sees it.</summary>
internal sealed record PaymentView(
    string Id,
    string LinkId,
    string Status,
    string Mode,
    string Facilitator,
    string Network,
    string Asset,
    string Payer,
    string PayTo,
    string Amount,
    string? Transaction,
    string? FailureReason,
    string? LastError,
    int Attempts,
    DateTimeOffset ValidBefore,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public static PaymentView From(PaymentRecord p) => new(
        p.Id, p.LinkId, p.Status.ToString().ToLowerInvariant(), p.Mode, p.Facilitator, p.Network, p.Asset, p.Payer, p.PayTo, p.Amount.ToString(),
        p.Transaction, p.FailureReason, p.LastError, p.Attempts, ValidBeforeOf(p.ValidBefore), p.CreatedAt, p.UpdatedAt);

    // Rows stored before validBefore was bounded may hold any 64-bit value: a read shows the latest representable time, never fails.
    private static DateTimeOffset ValidBeforeOf(long unixSeconds) =>
        DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(unixSeconds, 0, DateTimeOffset.MaxValue.ToUnixTimeSeconds()));
}
