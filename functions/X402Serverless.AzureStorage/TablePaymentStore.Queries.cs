using Azure.Data.Tables;
using X402Serverless.AzureStorage.Tables;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;
using static X402Serverless.AzureStorage.TablePaymentEntities;
using static X402Serverless.AzureStorage.Tables.EntityFields;

namespace X402Serverless.AzureStorage;

// Reads only: listing, per-link totals and a payer's history. Each reads the rows its filter matches and does the
// ordering, limiting and summing in memory.
public sealed partial class TablePaymentStore
{
    public async Task<IReadOnlyList<PaymentRecord>> ListAsync(string organisationId, PaymentQuery query, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"OrganisationId eq {organisationId}");
        if (query.Status is { } status)
        {
            filter += TableClient.CreateQueryFilter($" and Status eq {status.ToString()}");
        }
        if (query.LinkId is { } link)
        {
            filter += TableClient.CreateQueryFilter($" and LinkId eq {link}");
        }
        if (query.Before is { } before)
        {
            filter += TableClient.CreateQueryFilter($" and CreatedAt lt {Time(before)}");
        }
        if (query.After is { } after)
        {
            // The service narrows to the cursor's instant and older; the ties at that instant are cut by id here.
            filter += TableClient.CreateQueryFilter($" and CreatedAt le {Time(after.CreatedAt)}");
        }
        // Table Storage orders by key, not by time: read the organisation's matches (older than the cursor, when
        // continuing) and sort them here. Partitions are payments, so reading less would need an index by organisation and time.
        return (await _table.ListAsync(filter, null, cancellationToken)).Select(FromEntity)
            .Where(p => query.After is not { } a || p.CreatedAt < a.CreatedAt || string.CompareOrdinal(p.Id, a.Id) > 0)
            .OrderByDescending(p => p.CreatedAt).ThenBy(p => p.Id, StringComparer.Ordinal).Take(Math.Clamp(query.Limit, 1, 500)).ToList();
    }

    // Table Storage cannot aggregate: the organisation's rows are read and summed here.
    public async Task<IReadOnlyList<PaymentTotals>> TotalsByLinkAsync(string organisationId, CancellationToken cancellationToken) =>
        PaymentTotals.Aggregate((await _table.ListAsync(TableClient.CreateQueryFilter($"OrganisationId eq {organisationId}"), null, cancellationToken))
            .Select(FromEntity).Select(p => (p.LinkId, p.Network, p.Status, p.Amount)));

    public async Task<IReadOnlyList<PaymentRecord>> ListByLinkPrefixAsync(string prefix, PaymentStatus status, int max, CancellationToken cancellationToken) =>
        (await _table.ListAsync(TableClient.CreateQueryFilter(
            $"LinkId ge {prefix} and LinkId lt {prefix + "\uffff"} and Status eq {status.ToString()}"), null, cancellationToken))
            .Select(FromEntity).OrderByDescending(p => p.UpdatedAt).Take(max).ToList();

    public async Task<PayerHistory> GetPayerHistoryAsync(string payer, string organisationId, int inFlightBound, CancellationToken cancellationToken)
    {
        var rows = await _table.ListAsync(TableClient.CreateQueryFilter(
            $"Payer eq {payer} and ((Status eq {nameof(PaymentStatus.Settled)} and OrganisationId eq {organisationId}) or Mode eq {SettlementModes.Deferred})"),
            null, cancellationToken);
        var deferred = rows.Where(e => Str(e, "Mode") == SettlementModes.Deferred).Select(e => Str(e, "Status")).ToList();
        return new PayerHistory(
            rows.Any(e => Str(e, "Status") == nameof(PaymentStatus.Settled) && Str(e, "OrganisationId") == organisationId),
            deferred.Any(s => s is nameof(PaymentStatus.Failed) or nameof(PaymentStatus.Expired)),
            inFlightBound >= PayerHistory.InFlightCountCap ? 0
                : Math.Min(inFlightBound, deferred.Count(s => Enum.TryParse<PaymentStatus>(s, out var status) && PaymentTransitions.Live.Contains(status))));
    }
}
