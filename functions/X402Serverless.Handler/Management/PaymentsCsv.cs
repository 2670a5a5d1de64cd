using System.Globalization;
using X402Serverless.Core.Money;
using X402Serverless.Core.Networks;
using X402Serverless.Core.Payments;
using X402Serverless.Core.Ports;

namespace X402Serverless.Handler.Management;

/// <summary>
/// An organisation's payments as CSV, newest first, read a page at a time through the same query as GET
/// /api/payments and written as each page arrives; at most <see cref="MaxRows"/> rows.
/// </summary>
internal static class PaymentsCsv
{
    public const int MaxRows = 10_000;
    public const int PageSize = 500;

    public const string Header = "created_at,id,link_id,status,mode,facilitator,network,asset,payer,pay_to,amount_units,amount_usd,transaction,failure_reason,attempts,updated_at\r\n";

    public static async Task WriteAsync(TextWriter writer, IPaymentStore payments, NetworkRegistry networks, string organisationId,
        PaymentStatus? status, string? linkId, CancellationToken cancellationToken, int pageSize = PageSize)
    {
        await writer.WriteAsync(Header);
        var rows = 0;
        // Pages continue after the last row by (time, id), the listing's own order: none is lost or repeated at a page's
        // edge, however many payments share one instant.
        PaymentCursor? after = null;
        while (rows < MaxRows)
        {
            var page = await payments.ListAsync(organisationId, new PaymentQuery(status, linkId, pageSize, After: after), cancellationToken);
            foreach (var p in page.Take(MaxRows - rows))
            {
                await writer.WriteAsync(Row(p, networks));
                rows++;
            }
            await writer.FlushAsync(cancellationToken);
            if (page.Count < pageSize)
            {
                break;
            }
            after = PaymentCursor.Of(page[^1]);
        }
    }

    private static string Row(PaymentRecord p, NetworkRegistry networks)
    {
        // A network removed from configuration keeps its history readable with USDC's six decimals.
        var decimals = networks.TryGet(p.Network, out var n) ? n.Decimals : 6;
        var c = CultureInfo.InvariantCulture;
        return string.Join(',',
            CsvCells.Cell(p.CreatedAt.UtcDateTime.ToString("O", c)), CsvCells.Cell(p.Id), CsvCells.Cell(p.LinkId),
            CsvCells.Cell(p.Status.ToString().ToLowerInvariant()), CsvCells.Cell(p.Mode), CsvCells.Cell(p.Facilitator), CsvCells.Cell(p.Network),
            CsvCells.Cell(p.Asset), CsvCells.Cell(p.Payer), CsvCells.Cell(p.PayTo), p.Amount.ToString(), DollarText.Of(p.Amount, decimals),
            CsvCells.Cell(p.Transaction), CsvCells.Cell(p.FailureReason), p.Attempts.ToString(c), CsvCells.Cell(p.UpdatedAt.UtcDateTime.ToString("O", c))) + "\r\n";
    }
}
